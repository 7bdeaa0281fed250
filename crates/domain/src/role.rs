//! `Role`: what a user may do. Roles are nested: admin ⊇ manager ⊇ agent (ARCHITECTURE §9).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::util::excerpt;

/// A user's role. The derived order is the order of power, so `role >= Role::Manager` reads as
/// "at least a manager"; prefer the named helpers in services.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Reads contacts, campaigns, messages and replies. New users start here.
    #[default]
    Agent,
    /// Everything an agent does, plus managing contacts, templates and campaigns.
    Manager,
    /// Everything a manager does, plus managing users and WhatsApp settings.
    Admin,
}

/// Why a string is not a role.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown role '{input}': expected admin, manager or agent")]
pub struct RoleError {
    input: String,
}

impl Role {
    pub const ALL: [Role; 3] = [Role::Agent, Role::Manager, Role::Admin];

    /// Whether this role holds every permission of `required`.
    pub fn includes(self, required: Role) -> bool {
        self >= required
    }

    /// Create, edit, disable users and change their roles.
    pub fn can_manage_users(self) -> bool {
        self.includes(Role::Admin)
    }

    /// Add and edit WhatsApp phone-number settings (and their access tokens).
    pub fn can_manage_settings(self) -> bool {
        self.includes(Role::Admin)
    }

    /// Create and edit contacts, templates and campaigns, and start, pause or stop campaigns.
    pub fn can_manage_campaigns(self) -> bool {
        self.includes(Role::Manager)
    }

    /// Read contacts, campaigns, messages and replies. Every role can.
    pub fn can_read(self) -> bool {
        self.includes(Role::Agent)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Agent => "agent",
            Role::Manager => "manager",
            Role::Admin => "admin",
        }
    }

    /// Parses `admin`, `manager` or `agent`, ignoring case and surrounding spaces.
    pub fn parse(input: &str) -> Result<Self, RoleError> {
        match input.trim().to_ascii_lowercase().as_str() {
            "agent" => Ok(Role::Agent),
            "manager" => Ok(Role::Manager),
            "admin" => Ok(Role::Admin),
            _ => Err(RoleError {
                input: excerpt(input),
            }),
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = RoleError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_user_is_an_agent_by_default() {
        assert_eq!(Role::default(), Role::Agent);
    }

    #[test]
    fn each_role_includes_the_roles_below_it_and_not_above() {
        assert!(Role::Admin.includes(Role::Manager) && Role::Admin.includes(Role::Agent));
        assert!(Role::Manager.includes(Role::Agent) && !Role::Manager.includes(Role::Admin));
        assert!(!Role::Agent.includes(Role::Manager));
    }

    #[test]
    fn permissions_follow_the_architecture_table() {
        // (role, manage users, manage settings, manage campaigns, read)
        let table = [
            (Role::Admin, true, true, true, true),
            (Role::Manager, false, false, true, true),
            (Role::Agent, false, false, false, true),
        ];
        for (role, users, settings, campaigns, read) in table {
            assert_eq!(role.can_manage_users(), users, "{role}");
            assert_eq!(role.can_manage_settings(), settings, "{role}");
            assert_eq!(role.can_manage_campaigns(), campaigns, "{role}");
            assert_eq!(role.can_read(), read, "{role}");
        }
    }

    #[test]
    fn roles_serialize_lower_case_and_parse_back() {
        for role in Role::ALL {
            let json = serde_json::to_string(&role).unwrap();
            assert_eq!(json, format!("\"{}\"", role.as_str()));
            assert_eq!(serde_json::from_str::<Role>(&json).unwrap(), role);
            assert_eq!(Role::parse(&role.as_str().to_uppercase()).unwrap(), role);
        }
    }

    #[test]
    fn an_unknown_role_is_rejected_with_the_choices() {
        assert_eq!(
            Role::parse("owner").unwrap_err().to_string(),
            "unknown role 'owner': expected admin, manager or agent"
        );
        assert!(serde_json::from_str::<Role>("\"owner\"").is_err());
    }
}
