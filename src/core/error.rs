//! The one error type of the library.

/// Every failure the library reports.
///
/// The facade turns it into a JS `Error` once, with [`Error::code`] as its stable
/// `code` property.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The caller passed something unusable; nothing was read or sent.
    #[error("invalid input: {0}")]
    InvalidInput(String),
    /// The file could not be read, e.g. it was changed or deleted after it was picked.
    #[error("could not read the file: {0}")]
    FileRead(String),
    /// The caller cancelled the operation through its abort signal.
    #[error("the operation was aborted")]
    Aborted,
}

impl Error {
    /// The stable, machine-readable code JS callers switch on.
    pub fn code(&self) -> &'static str {
        match self {
            Error::InvalidInput(_) => "INVALID_INPUT",
            Error::FileRead(_) => "FILE_READ",
            Error::Aborted => "ABORTED",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_stable() {
        let table = [
            (Error::InvalidInput("x".into()), "INVALID_INPUT"),
            (Error::FileRead("x".into()), "FILE_READ"),
            (Error::Aborted, "ABORTED"),
        ];
        for (error, code) in table {
            assert_eq!(error.code(), code, "{error}");
        }
    }
}
