//! The private keys the service holds (the bloc CAs', the TSA's and its root's), encrypted at
//! rest under a master key from the operator (`GIAOUOC_MASTER_KEY_FILE`, or
//! `GIAOUOC_MASTER_KEY`): ChaCha20-Poly1305 (RFC 8439) with a random 96-bit nonce and the
//! file's name as associated data, so a sealed key moved to another file does not open.
//!
//! A sealed file reads `GIAOUOC-SEALED-1` on its first line, then base64 of nonce ‖ ciphertext.
//! Without a master key, keys stay PEM files readable by the owner only, as before; with one,
//! an existing plain key is sealed in place the first time it is read.

use std::path::Path;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Nonce};
use zeroize::Zeroizing;

/// The first line of a sealed key file.
pub const SEALED_HEADER: &str = "GIAOUOC-SEALED-1";

/// Why a secret could not be read or written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SecretError {
    /// The file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The cause.
        source: std::io::Error,
    },
    /// The master key is not 32 bytes (64 hex digits, or base64 of 32 bytes).
    #[error("khóa chủ (master key) phải là 32 byte: 64 chữ số hex hoặc base64")]
    BadMasterKey,
    /// The file is sealed and no master key was given.
    #[error("{0} được mã hóa bằng khóa chủ; hãy đặt GIAOUOC_MASTER_KEY_FILE")]
    NeedMasterKey(String),
    /// The file does not open with this master key (another key, or damaged).
    #[error("{0} không giải mã được bằng khóa chủ này (khóa khác, hoặc tệp bị hỏng)")]
    WrongMasterKey(String),
}

/// The operator's master key.
pub struct MasterKey(Zeroizing<[u8; 32]>);

impl std::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MasterKey(…)")
    }
}

impl MasterKey {
    /// A key written as 64 hex digits or base64 of 32 bytes (surrounding white space ignored).
    ///
    /// # Errors
    /// [`SecretError::BadMasterKey`].
    pub fn from_text(text: &str) -> Result<MasterKey, SecretError> {
        let t = text.trim();
        let bytes: Zeroizing<Vec<u8>> = if t.len() == 64 && t.bytes().all(|b| b.is_ascii_hexdigit())
        {
            Zeroizing::new(
                (0..32)
                    .filter_map(|i| t.get(2 * i..2 * i + 2))
                    .filter_map(|h| u8::from_str_radix(h, 16).ok())
                    .collect(),
            )
        } else {
            Zeroizing::new(B64.decode(t).map_err(|_| SecretError::BadMasterKey)?)
        };
        let key: [u8; 32] = bytes
            .as_slice()
            .try_into()
            .map_err(|_| SecretError::BadMasterKey)?;
        Ok(MasterKey(Zeroizing::new(key)))
    }

    /// The key in `path` (see [`MasterKey::from_text`]).
    ///
    /// # Errors
    /// An unreadable file or a malformed key.
    pub fn from_file(path: &Path) -> Result<MasterKey, SecretError> {
        let text = Zeroizing::new(std::fs::read_to_string(path).map_err(io(path))?);
        Self::from_text(&text)
    }

    /// The key the environment names: `GIAOUOC_MASTER_KEY_FILE`, else `GIAOUOC_MASTER_KEY`;
    /// `None` if neither is set.
    ///
    /// # Errors
    /// As [`MasterKey::from_file`].
    pub fn from_env() -> Result<Option<MasterKey>, SecretError> {
        if let Some(path) = std::env::var_os("GIAOUOC_MASTER_KEY_FILE").filter(|p| !p.is_empty()) {
            return Self::from_file(Path::new(&path)).map(Some);
        }
        match std::env::var("GIAOUOC_MASTER_KEY") {
            Ok(text) if !text.trim().is_empty() => Self::from_text(&text).map(Some),
            _ => Ok(None),
        }
    }

    /// `plaintext` sealed for the file named `name`.
    pub fn seal(
        &self,
        name: &str,
        plaintext: &[u8],
        rng: &mut impl rand_core::CryptoRngCore,
    ) -> String {
        let cipher = ChaCha20Poly1305::new(self.0.as_ref().into());
        let mut nonce = [0_u8; 12];
        rng.fill_bytes(&mut nonce);
        // Encrypting into a Vec cannot fail.
        let ct = cipher
            .encrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: plaintext,
                    aad: aad(name).as_bytes(),
                },
            )
            .unwrap_or_default();
        let mut body = nonce.to_vec();
        body.extend_from_slice(&ct);
        format!("{SEALED_HEADER}\n{}\n", B64.encode(body))
    }

    /// The plaintext of a file named `name` sealed with this key.
    ///
    /// # Errors
    /// [`SecretError::WrongMasterKey`] for another key, another file's name or any damage.
    pub fn open(&self, name: &str, sealed: &str) -> Result<Zeroizing<Vec<u8>>, SecretError> {
        let wrong = || SecretError::WrongMasterKey(name.to_owned());
        let body = sealed
            .strip_prefix(SEALED_HEADER)
            .map(str::trim)
            .ok_or_else(wrong)?;
        let body = B64.decode(body).map_err(|_| wrong())?;
        let (nonce, ct) = body.split_at_checked(12).ok_or_else(wrong)?;
        let cipher = ChaCha20Poly1305::new(self.0.as_ref().into());
        cipher
            .decrypt(
                Nonce::from_slice(nonce),
                Payload {
                    msg: ct,
                    aad: aad(name).as_bytes(),
                },
            )
            .map(Zeroizing::new)
            .map_err(|_| wrong())
    }
}

fn aad(name: &str) -> String {
    format!("giaouoc private key {name}")
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> SecretError + '_ {
    move |source| SecretError::Io {
        path: path.display().to_string(),
        source,
    }
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// Writes a new secret file (it must not exist; owner-only): sealed when `master` is given.
///
/// # Errors
/// The file exists or cannot be written.
pub fn write_key(
    path: &Path,
    plaintext: &[u8],
    master: Option<&MasterKey>,
) -> Result<(), SecretError> {
    let text = match master {
        Some(m) => Zeroizing::new(
            m.seal(&file_name(path), plaintext, &mut rand_core::OsRng)
                .into_bytes(),
        ),
        None => Zeroizing::new(plaintext.to_vec()),
    };
    crate::ca::write_secret(path, &text).map_err(io(path))
}

/// Reads a secret file: a sealed one with `master`, a plain one as it is — and, when `master`
/// is given, seals a plain one in place (written aside, then renamed over it).
///
/// # Errors
/// Unreadable, sealed without a master key, or not opening with it.
pub fn read_key(path: &Path, master: Option<&MasterKey>) -> Result<Zeroizing<String>, SecretError> {
    let text = Zeroizing::new(std::fs::read_to_string(path).map_err(io(path))?);
    let name = file_name(path);
    if text.starts_with(SEALED_HEADER) {
        let m = master.ok_or_else(|| SecretError::NeedMasterKey(path.display().to_string()))?;
        let plain = m.open(&name, &text)?;
        return String::from_utf8(plain.to_vec())
            .map(Zeroizing::new)
            .map_err(|_| SecretError::WrongMasterKey(name));
    }
    if let Some(m) = master {
        let aside = path.with_file_name(format!(".{name}.sealing"));
        let _ = std::fs::remove_file(&aside);
        let sealed = m.seal(&name, text.as_bytes(), &mut rand_core::OsRng);
        crate::ca::write_secret(&aside, sealed.as_bytes()).map_err(io(&aside))?;
        std::fs::rename(&aside, path).map_err(io(path))?;
        tracing::info!(file = %path.display(), "a plain private key was sealed with the master key");
    }
    Ok(text)
}

/// The files under `data_dir/rel` (one level of folders below it too), as
/// (`rel/…` path, content), for [`crate::store::Store::put_service_keys_if_absent`] and friends.
pub fn read_key_files(data_dir: &Path, rel: &str) -> std::io::Result<Vec<(String, Vec<u8>)>> {
    fn walk(
        base: &Path,
        rel: &str,
        depth: u8,
        out: &mut Vec<(String, Vec<u8>)>,
    ) -> std::io::Result<()> {
        let mut entries: Vec<_> = std::fs::read_dir(base.join(rel))?.collect::<Result<_, _>>()?;
        entries.sort_by_key(std::fs::DirEntry::file_name);
        for entry in entries {
            let Ok(name) = entry.file_name().into_string() else {
                continue;
            };
            if name.starts_with('.') {
                continue;
            }
            let path = format!("{rel}/{name}");
            let kind = entry.file_type()?;
            if kind.is_dir() && depth > 0 {
                walk(base, &path, depth - 1, out)?;
            } else if kind.is_file() {
                out.push((path, std::fs::read(entry.path())?));
            }
        }
        Ok(())
    }
    let mut out = Vec::new();
    walk(data_dir, rel, 2, &mut out)?;
    Ok(out)
}

/// Writes `files` (relative paths, checked by the store) under `data_dir`, owner-only.
pub fn write_key_files(data_dir: &Path, files: &[(String, Vec<u8>)]) -> std::io::Result<()> {
    for (path, content) in files {
        let target = data_dir.join(path);
        if std::fs::read(&target).is_ok_and(|old| &old == content) {
            continue;
        }
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent)?;
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                std::fs::set_permissions(parent, std::fs::Permissions::from_mode(0o700))?;
            }
        }
        let aside = target.with_extension("incoming");
        let _ = std::fs::remove_file(&aside);
        crate::ca::write_secret(&aside, content)?;
        std::fs::rename(&aside, &target)?;
    }
    Ok(())
}

/// `files` with every plain private key (`*.key` not sealed yet) sealed under `master`, as
/// [`read_key`] would seal it in place.
pub fn seal_plain_keys(
    files: Vec<(String, Vec<u8>)>,
    master: &MasterKey,
) -> Vec<(String, Vec<u8>)> {
    files
        .into_iter()
        .map(|(path, content)| {
            let name = path.rsplit('/').next().unwrap_or(&path).to_owned();
            if name.ends_with(".key") && !content.starts_with(SEALED_HEADER.as_bytes()) {
                let sealed = master.seal(&name, &content, &mut rand_core::OsRng);
                (path, sealed.into_bytes())
            } else {
                (path, content)
            }
        })
        .collect()
}

/// Whether any of `files` is a private key in plain text.
pub fn has_plain_keys(files: &[(String, Vec<u8>)]) -> bool {
    files
        .iter()
        .any(|(p, c)| p.ends_with(".key") && !c.starts_with(SEALED_HEADER.as_bytes()))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn dir(name: &str) -> std::path::PathBuf {
        let d = std::env::temp_dir().join(format!("giaouoc-secrets-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    #[test]
    fn a_sealed_key_opens_only_with_its_master_key_and_under_its_own_name() {
        let m = MasterKey::from_text(&"11".repeat(32)).unwrap();
        let other = MasterKey::from_text(&B64.encode([7_u8; 32])).unwrap();
        let d = dir("seal");
        let path = d.join("ca.key");
        write_key(&path, b"-----BEGIN PRIVATE KEY-----\nabc\n", Some(&m)).unwrap();
        let stored = std::fs::read_to_string(&path).unwrap();
        assert!(stored.starts_with(SEALED_HEADER) && !stored.contains("PRIVATE KEY"));
        assert_eq!(
            read_key(&path, Some(&m)).unwrap().as_str(),
            "-----BEGIN PRIVATE KEY-----\nabc\n"
        );
        assert!(matches!(
            read_key(&path, None),
            Err(SecretError::NeedMasterKey(_))
        ));
        assert!(matches!(
            read_key(&path, Some(&other)),
            Err(SecretError::WrongMasterKey(_))
        ));
        // Moved to another file's name: refused.
        let moved = d.join("tsa.key");
        std::fs::copy(&path, &moved).unwrap();
        assert!(matches!(
            read_key(&moved, Some(&m)),
            Err(SecretError::WrongMasterKey(_))
        ));
        // One flipped character: refused.
        let mut damaged = stored.clone().into_bytes();
        let at = damaged.len() - 5;
        damaged[at] = if damaged[at] == b'A' { b'B' } else { b'A' };
        std::fs::write(&path, damaged).unwrap();
        assert!(matches!(
            read_key(&path, Some(&m)),
            Err(SecretError::WrongMasterKey(_))
        ));
        assert!(MasterKey::from_text("short").is_err());
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn a_plain_key_is_sealed_in_place_once_a_master_key_is_given() {
        let m = MasterKey::from_text(&"22".repeat(32)).unwrap();
        let d = dir("upgrade");
        let path = d.join("ca.key");
        write_key(&path, b"PLAIN PEM", None).unwrap();
        assert_eq!(read_key(&path, None).unwrap().as_str(), "PLAIN PEM");
        assert_eq!(read_key(&path, Some(&m)).unwrap().as_str(), "PLAIN PEM");
        assert!(
            std::fs::read_to_string(&path)
                .unwrap()
                .starts_with(SEALED_HEADER)
        );
        assert_eq!(read_key(&path, Some(&m)).unwrap().as_str(), "PLAIN PEM");
        std::fs::remove_dir_all(&d).unwrap();
    }
}
