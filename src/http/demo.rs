//! `giaouoc serve --demo` on an empty store: the reference covenant (Quảng Ninh 2021, 16
//! units) ready to sign. The bloc CA is created, each of the 16 leaders gets a key (kept under
//! `<data_dir>/demo-keys/Uxx.key`, PKCS#8 PEM, mode 0600, so a visitor can sign) and a
//! certificate, each unit an officer, a leader and a clerk token (`demo-keys/tokens.json`),
//! an organisation key and certificate (`Uxx-dau.key`, `Uxx-dau.crt`) and a seal image
//! (`Uxx-dau.png`); the registrations of the fixture are submitted and accepted and the
//! covenant is frozen. The next year's covenant, open for registration, asks for seals.
//! Everything goes through the same functions as the API, so the audit trail shows it.

use std::collections::BTreeMap;
use std::path::PathBuf;

use bytes::Bytes;
use rand_core::OsRng;
use serde_json::{Value, json};

use super::auth::Caller;
use super::ca::write_secret;
use super::error::{ApiError, ApiResult};
use super::{AppState, blocs, covenants, registrations};
use crate::pki;
use crate::store::UnitKind;

/// The reference covenant.
pub const DEMO_COVENANT: &[u8] =
    include_bytes!("../../tests/fixtures/covenant-2021-quang-ninh.json");

/// The bloc's 100-point scoring table the demo adds to it (the covenant's appendix, and the
/// year-end scores).
const DEMO_SCORING: &[u8] = include_bytes!("../../tests/fixtures/scoring-100.json");

/// The reference covenant with the demo's scoring table.
fn demo_input() -> ApiResult<Vec<u8>> {
    let mut input: Value = serde_json::from_slice(DEMO_COVENANT).map_err(ApiError::internal)?;
    let scoring: Value = serde_json::from_slice(DEMO_SCORING).map_err(ApiError::internal)?;
    if let Some(c) = input.get_mut("covenant").and_then(Value::as_object_mut) {
        c.insert("scoring".into(), scoring);
    }
    serde_json::to_vec(&input).map_err(ApiError::internal)
}

/// What the demo set up.
#[derive(Debug, Clone)]
pub struct DemoInfo {
    pub covenant_id: String,
    /// `<data_dir>/demo-keys`: `Uxx.key`, `Uxx.crt`, `ca.pem`, `tsa-ca.pem`
    /// (the built-in TSA's root), `tokens.json`.
    pub keys_dir: PathBuf,
    pub tokens_file: PathBuf,
}

/// Seeds the demo if the store has no bloc yet; `None` if it already had one. The admin
/// secret, if given (first start), is written to `tokens.json` too.
///
/// # Errors
/// Any step failing (the store, the files under the data dir).
pub async fn seed(state: &AppState, admin_secret: Option<&str>) -> ApiResult<Option<DemoInfo>> {
    if !state.shared.cas.bloc_ids().await?.is_empty() {
        return Ok(None);
    }
    let admin = Caller::system("demo");
    let row = covenants::create_covenant(state, &admin, Bytes::from(demo_input()?)).await?;
    let id = row.id.clone();
    let bloc = row.bloc_id.clone();
    let loaded = covenants::Loaded::from_row(row.clone())?;
    let units = loaded.covenant.units.clone();
    let keys_dir = state.data_dir().join("demo-keys");
    std::fs::create_dir_all(&keys_dir).map_err(io)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&keys_dir, std::fs::Permissions::from_mode(0o700)).map_err(io)?;
    }
    let ca = state.shared.cas.require(&bloc).await?;
    std::fs::write(keys_dir.join("ca.pem"), &ca.cert_pem).map_err(io)?;
    // Every root a verifier needs: the bloc CA above, the built-in TSA's here.
    let tsa_root =
        crate::pki::certificate_to_pem(state.shared.tsa.root()).map_err(ApiError::internal)?;
    std::fs::write(keys_dir.join("tsa-ca.pem"), tsa_root).map_err(io)?;

    let mut tokens: BTreeMap<String, Value> = BTreeMap::new();
    let mut officers: BTreeMap<String, Caller> = BTreeMap::new();
    let mut leader_unit = None;
    for unit in &units {
        let uid = unit.id.clone();
        if unit.role == crate::covenant::Role::Leader {
            leader_unit = Some(uid.clone());
        }
        certified_key(state, &admin, &bloc, &keys_dir, &uid, Some(unit)).await?;
        // The unit's own certificate and seal, which its clerk applies after the leader.
        let seal_field = crate::workflow::Seat::Seal.field(&uid);
        certified_key(state, &admin, &bloc, &keys_dir, &uid, None).await?;
        let seal_png = crate::sign::SealImage::sample_png(36.0, tokens.len() as u32 * 7);
        std::fs::write(keys_dir.join(format!("{seal_field}.png")), &seal_png).map_err(io)?;
        blocs::save_seal(state, &admin, &bloc, &uid, &seal_png, None).await?;
        let officer =
            blocs::issue_unit_token(state, &admin, &bloc, &uid, UnitKind::Officer).await?;
        let leader = blocs::issue_unit_token(state, &admin, &bloc, &uid, UnitKind::Leader).await?;
        let clerk = blocs::issue_unit_token(state, &admin, &bloc, &uid, UnitKind::Clerk).await?;
        officers.insert(
            uid.clone(),
            Caller::Unit {
                token_id: officer.id.clone(),
                bloc_id: bloc.clone(),
                unit_id: uid.clone(),
                kind: UnitKind::Officer,
            },
        );
        tokens.insert(
            uid,
            json!({"officer": officer.secret, "leader": leader.secret, "clerk": clerk.secret}),
        );
    }
    if let Some(secret) = admin_secret {
        tokens.insert("admin".into(), Value::String(secret.to_owned()));
    }
    let tokens_file = keys_dir.join("tokens.json");
    let text = serde_json::to_vec_pretty(&tokens).map_err(ApiError::internal)?;
    write_secret(&tokens_file, &text).map_err(io)?;

    covenants::open_registration_for(state, &admin, &id).await?;
    let reviewer = leader_unit
        .and_then(|u| officers.get(&u).cloned())
        .unwrap_or_else(|| admin.clone());
    for unit in &units {
        let uid = unit.id.as_str();
        let mut data = serde_json::to_value(&unit.registration).map_err(ApiError::internal)?;
        if let Some(obj) = data.as_object_mut() {
            obj.insert("submit".into(), Value::Bool(true));
        }
        let officer = officers.get(uid).unwrap_or(&admin);
        registrations::save_registration(state, officer, &id, uid, data).await?;
        registrations::review_registration(
            state,
            &reviewer,
            &id,
            uid,
            &registrations::Review {
                accept: true,
                comment: None,
            },
        )
        .await?;
    }
    covenants::freeze_covenant(state, &reviewer, &id).await?;

    // The next year, open for registration: the units register in the web interface.
    let next = next_year_input(&loaded.covenant, &row.input)?;
    let next_bytes = serde_json::to_vec(&next).map_err(ApiError::internal)?;
    let next_row = covenants::create_covenant(state, &admin, Bytes::from(next_bytes)).await?;
    covenants::open_registration_for(state, &admin, &next_row.id).await?;
    tracing::info!(covenant = id, next = next_row.id, "demo ready");
    Ok(Some(DemoInfo {
        covenant_id: id,
        keys_dir,
        tokens_file,
    }))
}

/// A new key for `unit`'s leader (`leader` given) or for the unit itself (its seal), kept as
/// `<field>.key` in `keys_dir`, certified by the bloc CA (enrolled and approved by the admin)
/// and the certificate kept as `<field>.crt`.
async fn certified_key(
    state: &AppState,
    admin: &Caller,
    bloc: &str,
    keys_dir: &std::path::Path,
    unit: &str,
    leader: Option<&crate::covenant::Unit>,
) -> ApiResult<()> {
    let seat = match leader {
        Some(_) => crate::workflow::Seat::Leader,
        None => crate::workflow::Seat::Seal,
    };
    let key = pki::generate_signing_key(&mut OsRng);
    let key_pem = pki::signing_key_to_pem(&key).map_err(ApiError::internal)?;
    let file = keys_dir.join(format!("{}.key", seat.field(unit)));
    write_secret(&file, key_pem.as_bytes()).map_err(io)?;
    let public_pem = pki::verifying_key_to_pem(&key.verifying_key()).map_err(ApiError::internal)?;
    let enrolment = blocs::enrol_leader(
        state,
        admin,
        bloc,
        blocs::EnrolRequest {
            unit: unit.to_owned(),
            public_key_pem: Some(public_pem),
            csr_pem: None,
            certificate_pem: None,
            full_name: leader
                .map(|u| u.signer.full_name.clone())
                .unwrap_or_default(),
            title: leader
                .map(|u| u.signer.position.clone())
                .unwrap_or_default(),
            holder: leader.is_none().then_some(pki::Holder::Organisation),
        },
    )
    .await?;
    let cert = blocs::approve_enrolment(state, admin, enrolment.id).await?;
    std::fs::write(
        keys_dir.join(format!("{}.crt", seat.field(unit))),
        &cert.cert_pem,
    )
    .map_err(io)
}

/// The reference covenant moved one year on (its common part only; the units keep their
/// proposed registrations, which they now edit and submit).
/// The next year: the same head and deputy, the registrations kept as proposals for the
/// units to edit, and from that year each unit's seal after its leader's signature.
fn next_year_input(covenant: &crate::covenant::Covenant, input: &Value) -> ApiResult<Value> {
    let role = |r: crate::covenant::Role| {
        covenant
            .units
            .iter()
            .find(|u| u.role == r)
            .map(|u| u.id.clone())
            .unwrap_or_default()
    };
    let (head, deputy) = (
        role(crate::covenant::Role::Leader),
        role(crate::covenant::Role::Deputy),
    );
    let (mut next, _) = crate::year::next_year_input(input, &head, &deputy, &[], &[], true)
        .map_err(|e| ApiError::internal(format!("the demo's next year: {e}")))?;
    if let Some(c) = next.get_mut("covenant").and_then(Value::as_object_mut) {
        c.insert("seal_signatures".into(), Value::Bool(true));
    }
    Ok(next)
}

fn io(e: std::io::Error) -> ApiError {
    ApiError::internal(format!("demo files: {e}"))
}
