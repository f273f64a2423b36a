//! Files granted by the connector's configuration (the `files` import).

#[cfg(any(feature = "source", feature = "sink"))]
use crate::{File, FileError};

/// Conveniences over an open granted [`File`].
#[cfg(any(feature = "source", feature = "sink"))]
pub trait FileExt {
    /// Appends all of `data`.
    fn append_all(&self, data: &[u8]) -> Result<(), FileError>;
}

#[cfg(any(feature = "source", feature = "sink"))]
impl FileExt for File {
    fn append_all(&self, data: &[u8]) -> Result<(), FileError> {
        // One host call per megabyte keeps every call's copy bounded.
        for chunk in data.chunks(1 << 20) {
            self.append(chunk)?;
        }
        Ok(())
    }
}

/// Without a file grant (transforms) there is nothing to extend.
#[cfg(not(any(feature = "source", feature = "sink")))]
pub trait FileExt {}
