//! Authentication and authorization seams.
//!
//! [`Authenticator`] turns a request's credentials into a [`UserInfo`]; [`Authorizer`]
//! decides whether that user may perform a verb on a resource. Berth starts with bearer
//! tokens and allow-all authorization; RBAC plugs in behind the same traits.

use std::collections::HashMap;

/// Who is asking.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserInfo {
    /// User name, e.g. `admin` or `system:serviceaccount:default:sa`.
    pub username: String,
    /// Stable user id.
    pub uid: String,
    /// Groups, e.g. `system:masters`.
    pub groups: Vec<String>,
}

impl UserInfo {
    /// The anonymous user Kubernetes assigns to requests without credentials.
    pub fn anonymous() -> Self {
        Self {
            username: "system:anonymous".into(),
            uid: String::new(),
            groups: vec!["system:unauthenticated".into()],
        }
    }
}

/// Credentials found on a request.
#[derive(Debug, Default, Clone, Copy)]
pub struct Credentials<'a> {
    /// The `Authorization: Bearer` token.
    pub bearer: Option<&'a str>,
}

/// The result of authentication.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Authentication {
    /// Valid credentials.
    User(UserInfo),
    /// No credentials at all.
    Anonymous,
    /// Credentials that are not valid: always 401.
    Invalid,
}

/// Maps credentials to a user.
pub trait Authenticator: Send + Sync {
    /// Authenticates one request.
    fn authenticate(&self, creds: Credentials<'_>) -> Authentication;
}

/// Static bearer tokens (the admin token, later service-account tokens).
#[derive(Debug, Default)]
pub struct TokenAuthenticator {
    tokens: HashMap<String, UserInfo>,
}

impl TokenAuthenticator {
    /// An authenticator knowing the given tokens.
    pub fn new(tokens: impl IntoIterator<Item = (String, UserInfo)>) -> Self {
        Self {
            tokens: tokens.into_iter().collect(),
        }
    }
}

impl Authenticator for TokenAuthenticator {
    fn authenticate(&self, creds: Credentials<'_>) -> Authentication {
        match creds.bearer {
            None => Authentication::Anonymous,
            Some(token) => {
                // Compare every token without an early exit on the first differing byte.
                let mut found = None;
                for (known, user) in &self.tokens {
                    if constant_time_eq(known.as_bytes(), token.as_bytes()) {
                        found = Some(user.clone());
                    }
                }
                found.map_or(Authentication::Invalid, Authentication::User)
            }
        }
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// What a request wants to do, as an authorizer sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attributes {
    /// `get`, `list`, `watch`, `create`, `update`, `patch`, `delete`, `deletecollection`.
    pub verb: String,
    /// API group.
    pub group: String,
    /// Plural resource.
    pub resource: String,
    /// Subresource, or "".
    pub subresource: String,
    /// Namespace, or "".
    pub namespace: String,
    /// Object name, or "".
    pub name: String,
}

/// Decides whether a user may do something.
pub trait Authorizer: Send + Sync {
    /// `Ok(())` to allow; `Err(reason)` to deny with a reason for the 403 message.
    fn authorize(&self, user: &UserInfo, attrs: &Attributes) -> Result<(), String>;
}

/// Allows every authenticated request (until RBAC is enforced).
#[derive(Debug, Default)]
pub struct AllowAll;

impl Authorizer for AllowAll {
    fn authorize(&self, _user: &UserInfo, _attrs: &Attributes) -> Result<(), String> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn admin() -> UserInfo {
        UserInfo {
            username: "admin".into(),
            uid: "1".into(),
            groups: vec!["system:masters".into()],
        }
    }

    #[test]
    fn tokens_authenticate_exactly() {
        let a = TokenAuthenticator::new([("secret".to_string(), admin())]);
        assert_eq!(
            a.authenticate(Credentials {
                bearer: Some("secret")
            }),
            Authentication::User(admin())
        );
        assert_eq!(
            a.authenticate(Credentials {
                bearer: Some("secreT")
            }),
            Authentication::Invalid
        );
        assert_eq!(
            a.authenticate(Credentials { bearer: Some("") }),
            Authentication::Invalid
        );
        assert_eq!(a.authenticate(Credentials::default()), Authentication::Anonymous);
    }
}
