use std::fmt;

/// Longest tenant id accepted (the same bound Cortex/Mimir/Loki use).
pub(crate) const MAX_TENANT_LEN: usize = 150;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TenantError {
    #[error("tenant id is empty")]
    Empty,
    #[error("tenant id is longer than {MAX_TENANT_LEN} characters")]
    TooLong,
    #[error("tenant id {0:?} is not allowed")]
    Reserved(String),
    #[error("tenant id contains unsupported character {0:?}: only letters, digits and !-_.*'() are allowed")]
    BadChar(char),
}

/// A validated tenant id. It is safe to use as a path component: it has no
/// `/`, is not `.` or `..`, and holds only `[A-Za-z0-9!\-_.*'()]`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TenantId(String);

impl TenantId {
    pub fn new(id: &str) -> Result<Self, TenantError> {
        if id.is_empty() {
            return Err(TenantError::Empty);
        }
        if id.len() > MAX_TENANT_LEN {
            return Err(TenantError::TooLong);
        }
        if id == "." || id == ".." || id == "__" {
            return Err(TenantError::Reserved(id.to_string()));
        }
        if let Some(c) = id
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || "!-_.*'()".contains(*c)))
        {
            return Err(TenantError::BadChar(c));
        }
        Ok(TenantId(id.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for TenantId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_and_rejects() {
        assert!(TenantId::new("team-a_1.prod").is_ok());
        assert_eq!(TenantId::new(""), Err(TenantError::Empty));
        assert_eq!(TenantId::new(".."), Err(TenantError::Reserved("..".into())));
        assert_eq!(TenantId::new("a/b"), Err(TenantError::BadChar('/')));
        assert_eq!(TenantId::new(&"x".repeat(151)), Err(TenantError::TooLong));
    }
}
