//! Signing the covenant PDF: PAdES B-B with Ed25519 (ISO 32000-2 §12.8, ETSI EN 319 142-1,
//! RFC 8419), one incremental revision per signer.

pub mod cms;
