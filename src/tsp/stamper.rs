//! Where the service's time-stamps come from: the built-in TSA or an external one. Either way
//! the caller gets a token over a message imprint; an external TSA's token is checked first
//! ([`super::RemoteTsa::stamp_imprint`]).

use std::sync::Arc;

use time::OffsetDateTime;

use super::{Authority, MessageImprint, RemoteTsa, TimeStampRequest, TokenTrust, TspError};

/// A source of time-stamp tokens.
#[derive(Debug, Clone)]
pub enum Stamper {
    /// The built-in TSA, in this process.
    BuiltIn(Arc<Authority>),
    /// An external TSA over HTTP.
    Remote(RemoteTsa),
}

impl Stamper {
    /// A token over `imprint`. The built-in TSA stamps at `at` with `serial`; an external TSA
    /// stamps at its own time and its token must pass [`super::check_token`] under `trust`.
    /// `nonce` goes into the request (RFC 3161 §2.4.1).
    ///
    /// # Errors
    /// A refusal, a transport failure, a token that fails its checks.
    pub fn stamp(
        &self,
        imprint: &MessageImprint,
        nonce: &[u8],
        serial: &[u8],
        at: OffsetDateTime,
        trust: &TokenTrust<'_>,
    ) -> Result<Vec<u8>, TspError> {
        match self {
            Stamper::BuiltIn(tsa) => tsa
                .stamp(&TimeStampRequest::new(imprint.clone(), nonce), serial, at)
                .map_err(|(_, why)| TspError::Rejected(why.to_owned())),
            Stamper::Remote(remote) => remote.stamp_imprint(imprint, nonce, trust),
        }
    }

    /// Who stamps, for messages and the audit trail.
    pub fn describe(&self) -> String {
        match self {
            Stamper::BuiltIn(tsa) => crate::pki::cert_info(tsa.certificate())
                .subject_cn
                .unwrap_or_else(|| "built-in TSA".to_owned()),
            Stamper::Remote(remote) => remote.url.clone(),
        }
    }
}
