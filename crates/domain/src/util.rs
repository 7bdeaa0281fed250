//! Small helpers shared by the value types.

/// How many characters of a rejected input an error message quotes.
const EXCERPT_CHARS: usize = 64;

/// The input as an error message quotes it: whole when short, cut with an ellipsis when long,
/// so that a megabyte of garbage in a request body does not end up in a log line.
pub(crate) fn excerpt(input: &str) -> String {
    if input.chars().count() <= EXCERPT_CHARS {
        input.to_owned()
    } else {
        let mut cut: String = input.chars().take(EXCERPT_CHARS).collect();
        cut.push('…');
        cut
    }
}

/// The conversions every string-backed value type shares: `Display`, `AsRef<str>`, `FromStr`,
/// `TryFrom<String>` (what serde's `try_from` uses) and back into `String`. The type must be a
/// tuple struct over `String` with `fn parse(&str) -> Result<Self, $err>`.
macro_rules! string_value_conversions {
    ($name:ident, $err:ty) => {
        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl std::str::FromStr for $name {
            type Err = $err;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::parse(s)
            }
        }

        impl TryFrom<String> for $name {
            type Error = $err;
            fn try_from(s: String) -> Result<Self, Self::Error> {
                Self::parse(&s)
            }
        }

        impl From<$name> for String {
            fn from(value: $name) -> String {
                value.0
            }
        }
    };
}
pub(crate) use string_value_conversions;

/// An enum of the string values Herald knows, plus `Other(String)` for values Meta adds later:
/// an unknown value is kept, not rejected, so a new Meta status never breaks a webhook or a sync.
/// Construct values through `From<&str>`/`From<String>`, which map known strings to their variant.
macro_rules! open_enum {
    (
        $(#[$doc:meta])*
        pub enum $name:ident {
            $( $(#[$vdoc:meta])* $variant:ident => $text:literal, )+
        }
    ) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
        #[serde(from = "String", into = "String")]
        pub enum $name {
            $( $(#[$vdoc])* $variant, )+
            /// A value this version of Herald does not know, kept as received.
            Other(String),
        }

        impl $name {
            pub fn as_str(&self) -> &str {
                match self {
                    $( Self::$variant => $text, )+
                    Self::Other(other) => other,
                }
            }
        }

        impl From<&str> for $name {
            fn from(s: &str) -> Self {
                match s {
                    $( $text => Self::$variant, )+
                    other => Self::Other(other.to_owned()),
                }
            }
        }

        impl From<String> for $name {
            fn from(s: String) -> Self {
                Self::from(s.as_str())
            }
        }

        impl From<$name> for String {
            fn from(value: $name) -> String {
                match value {
                    $name::Other(other) => other,
                    known => known.as_str().to_owned(),
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}
pub(crate) use open_enum;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_short_input_is_quoted_whole() {
        assert_eq!(excerpt("abc"), "abc");
    }

    #[test]
    fn a_long_input_is_cut_with_an_ellipsis() {
        let long = "x".repeat(1000);
        let quoted = excerpt(&long);
        assert_eq!(quoted.chars().count(), EXCERPT_CHARS + 1);
        assert!(quoted.ends_with('…'));
    }
}
