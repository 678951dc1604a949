//! Errors of the board layer: each names the file, node and property at fault.

use std::path::PathBuf;

/// Result type of the board crate.
pub type Result<T> = std::result::Result<T, BoardError>;

/// Everything that can be wrong with a board description.
#[derive(Debug, thiserror::Error)]
pub enum BoardError {
    /// The device-tree compiler is not installed.
    #[error("dtc (the device-tree compiler) was not found on PATH: install the Debian package `device-tree-compiler` (apt-get install device-tree-compiler)")]
    DtcMissing,
    /// The C preprocessor needed for `#include` is not installed.
    #[error("cpp (the C preprocessor, for #include in {path}) was not found on PATH: install the Debian package `cpp`")]
    CppMissing { path: PathBuf },
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// dtc or cpp rejected the source.
    #[error("{tool} rejected the source: {}", .stderr.lines().collect::<Vec<_>>().join("; "))]
    Compile {
        tool: &'static str,
        path: PathBuf,
        stderr: String,
    },
    /// The blob is not a well-formed flattened device tree.
    #[error("malformed DTB: {0}")]
    MalformedDtb(String),
    /// A property is malformed or inconsistent; names node and property.
    #[error("{node}: property `{property}`: {message}")]
    Property {
        node: String,
        property: String,
        message: String,
    },
    /// A node is missing or inconsistent as a whole.
    #[error("{node}: {message}")]
    Node { node: String, message: String },
    /// Two regions that must not overlap do.
    #[error("{first} [{first_range}] overlaps {second} [{second_range}]")]
    Overlap {
        first: String,
        first_range: String,
        second: String,
        second_range: String,
    },
    /// Writing the guest's DTB failed.
    #[error("writing the guest DTB failed at node {node}: {message}")]
    Write { node: String, message: String },
}

impl BoardError {
    pub(crate) fn prop(node: &str, property: &str, message: impl Into<String>) -> Self {
        BoardError::Property {
            node: node.to_string(),
            property: property.to_string(),
            message: message.into(),
        }
    }

    pub(crate) fn node(node: &str, message: impl Into<String>) -> Self {
        BoardError::Node {
            node: node.to_string(),
            message: message.into(),
        }
    }
}
