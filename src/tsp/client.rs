//! Asking an external TSA (RFC 3161 §3.4: `application/timestamp-query` over HTTP POST) for a
//! token, and checking it before anyone uses it: status, nonce, imprint, signature, EKU and
//! chain ([`super::check_token`]).

use std::time::Duration;

use base64::Engine;

use super::{
    MessageImprint, TimeStampRequest, TokenTrust, TspError, TstInfo, check_token,
    token_from_response,
};
use crate::pki::alg::HashAlg;

/// The largest response read from a TSA.
const MAX_RESPONSE: u64 = 256 * 1024;

/// An external TSA: its URL and optional HTTP basic credentials.
#[derive(Clone)]
pub struct RemoteTsa {
    /// `http(s)://…` of the TSA.
    pub url: String,
    /// `user:password` for HTTP basic authentication, if the TSA wants it.
    pub basic_auth: Option<String>,
    /// How long one request may take.
    pub timeout: Duration,
    /// Refuse a token whose TSA does not chain to the trust roots (on by default; the command
    /// line turns it off when no TSA root is given, and says so).
    pub require_trusted: bool,
}

impl std::fmt::Debug for RemoteTsa {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RemoteTsa")
            .field("url", &self.url)
            .field("basic_auth", &self.basic_auth.as_ref().map(|_| "…"))
            .finish_non_exhaustive()
    }
}

impl RemoteTsa {
    /// A TSA at `url` (credentials may be given as `https://user:password@host/…`).
    pub fn new(url: &str) -> RemoteTsa {
        let mut out = RemoteTsa {
            url: url.to_owned(),
            basic_auth: None,
            timeout: Duration::from_secs(30),
            require_trusted: true,
        };
        if let Some((scheme, rest)) = url.split_once("://") {
            let authority_end = rest.find('/').unwrap_or(rest.len());
            let authority = rest.get(..authority_end).unwrap_or_default();
            if let Some((userinfo, host)) = authority.rsplit_once('@') {
                out.basic_auth = Some(userinfo.to_owned());
                out.url = format!(
                    "{scheme}://{host}{}",
                    rest.get(authority_end..).unwrap_or_default()
                );
            }
        }
        out
    }

    /// Sends `request` (DER) and returns the DER response.
    ///
    /// # Errors
    /// [`TspError::Transport`] when the TSA cannot be reached or does not answer 200.
    pub fn send(&self, request: &[u8]) -> Result<Vec<u8>, TspError> {
        let transport = |error: String| TspError::Transport {
            url: self.url.clone(),
            error,
        };
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(self.timeout))
            .build()
            .into();
        let mut req = agent
            .post(&self.url)
            .header("Content-Type", "application/timestamp-query");
        if let Some(auth) = &self.basic_auth {
            let encoded = base64::engine::general_purpose::STANDARD.encode(auth.as_bytes());
            req = req.header("Authorization", format!("Basic {encoded}"));
        }
        let mut resp = req.send(request).map_err(|e| transport(e.to_string()))?;
        let status = resp.status().as_u16();
        if status != 200 {
            return Err(transport(format!("HTTP {status}")));
        }
        resp.body_mut()
            .with_config()
            .limit(MAX_RESPONSE)
            .read_to_vec()
            .map_err(|e| transport(e.to_string()))
    }

    /// A checked token over `data` hashed with `hash`, with a fresh `nonce` (see
    /// [`RemoteTsa::stamp_imprint`]).
    ///
    /// # Errors
    /// Transport failures, a refusal, or a token that fails a check.
    pub fn stamp(
        &self,
        hash: HashAlg,
        data: &[u8],
        nonce: &[u8],
        trust: &TokenTrust<'_>,
    ) -> Result<Vec<u8>, TspError> {
        self.stamp_imprint(&MessageImprint::of(hash, data), nonce, trust)
    }

    /// A checked token over `imprint`: the response's status, the nonce echoed, and everything
    /// [`check_token`] checks (signature, imprint, EKU, chain under `trust`).
    ///
    /// # Errors
    /// Transport failures, a refusal, or a token that fails a check.
    pub fn stamp_imprint(
        &self,
        imprint: &MessageImprint,
        nonce: &[u8],
        trust: &TokenTrust<'_>,
    ) -> Result<Vec<u8>, TspError> {
        let request = TimeStampRequest::new(imprint.clone(), nonce);
        let response = self.send(&request.to_der()?)?;
        let token = token_from_response(&response)?;
        let check = check_token(
            &token,
            |h| (h.oid() == imprint.hash_oid).then(|| imprint.digest.clone()),
            trust,
        );
        if let Some(p) = check
            .problems
            .iter()
            .find(|p| self.require_trusted || !matches!(p, super::TokenProblem::Untrusted { .. }))
        {
            return Err(TspError::Rejected(format!("{p:?}")));
        }
        let echoed = check.info.as_ref().and_then(|i: &TstInfo| i.nonce.clone());
        if echoed != request.nonce {
            return Err(TspError::Rejected("the nonce was not echoed".into()));
        }
        Ok(token)
    }
}
