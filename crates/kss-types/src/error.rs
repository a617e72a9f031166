use core::fmt;

/// A byte buffer that cannot be read as the named structure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LayoutError {
    /// The buffer length differs from the structure size.
    Length {
        /// Structure being parsed, e.g. `"SIGSTRUCT"`.
        structure: &'static str,
        /// Bytes the structure needs.
        expected: usize,
        /// Bytes given.
        actual: usize,
    },
}

impl fmt::Display for LayoutError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LayoutError::Length {
                structure,
                expected,
                actual,
            } => write!(
                f,
                "{structure} must be exactly {expected} bytes, got {actual}"
            ),
        }
    }
}

impl core::error::Error for LayoutError {}

pub(crate) fn check_len(
    structure: &'static str,
    bytes: &[u8],
    expected: usize,
) -> Result<(), LayoutError> {
    if bytes.len() == expected {
        Ok(())
    } else {
        Err(LayoutError::Length {
            structure,
            expected,
            actual: bytes.len(),
        })
    }
}
