//! `files`: opening the files a connector's configuration grants.
//!
//! The host opens the *granted* path (never the guest's string), so a
//! request can only ever reach a file an operator named in the config.

use std::fs::OpenOptions;
use std::io::Write;
use std::os::unix::fs::FileExt;
use std::path::PathBuf;

use wasmtime::component::Resource;

use crate::bindings::wasmconnect::connector::files::{
    FileError, Host, HostFile as HostFileMethods, OpenMode,
};
use crate::sandbox::HostState;
use crate::sandbox::grants::FileAccess;

/// Largest single read: guests ask for a size, the host allocates it, so
/// it is bounded.
const MAX_READ: u32 = 16 << 20;

/// An open granted file, held in the instance's resource table.
pub struct HostFile {
    file: std::fs::File,
    path: PathBuf,
    append: bool,
}

fn io_error(path: &std::path::Path, e: std::io::Error) -> FileError {
    FileError::Io(format!("{}: {e}", path.display()))
}

impl Host for HostState {
    fn open(
        &mut self,
        path: String,
        mode: OpenMode,
    ) -> wasmtime::Result<Result<Resource<HostFile>, FileError>> {
        let Some((granted, access)) = self.grants.file(&path, &self.cwd) else {
            tracing::warn!(
                connector = &*self.connector,
                task = self.task,
                path,
                "plugin asked for a file its configuration does not grant"
            );
            return Ok(Err(FileError::NotGranted(format!(
                "{path} is not named by any file setting of this connector"
            ))));
        };
        let granted = granted.to_path_buf();
        let append = mode == OpenMode::Append;
        if append && access != FileAccess::Append {
            return Ok(Err(FileError::NotGranted(format!(
                "{path} is granted for reading only"
            ))));
        }
        let opened = if append {
            OpenOptions::new()
                .create(true)
                .append(true)
                .read(true)
                .open(&granted)
        } else {
            OpenOptions::new().read(true).open(&granted)
        };
        let file = match opened {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Ok(Err(FileError::NotFound(granted.display().to_string())));
            }
            Err(e) => return Ok(Err(io_error(&granted, e))),
        };
        Ok(Ok(self.table.push(HostFile {
            file,
            path: granted,
            append,
        })?))
    }
}

impl HostFileMethods for HostState {
    fn read(
        &mut self,
        file: Resource<HostFile>,
        offset: u64,
        max_len: u32,
    ) -> wasmtime::Result<Result<Vec<u8>, FileError>> {
        let f = self.table.get(&file)?;
        let mut buf = vec![0u8; max_len.min(MAX_READ) as usize];
        Ok(match f.file.read_at(&mut buf, offset) {
            Ok(n) => {
                buf.truncate(n);
                Ok(buf)
            }
            Err(e) => Err(io_error(&f.path, e)),
        })
    }

    fn append(
        &mut self,
        file: Resource<HostFile>,
        data: Vec<u8>,
    ) -> wasmtime::Result<Result<(), FileError>> {
        let f = self.table.get_mut(&file)?;
        if !f.append {
            return Ok(Err(FileError::NotGranted(format!(
                "{} was opened for reading",
                f.path.display()
            ))));
        }
        Ok(f.file.write_all(&data).map_err(|e| io_error(&f.path, e)))
    }

    fn sync(&mut self, file: Resource<HostFile>) -> wasmtime::Result<Result<(), FileError>> {
        let f = self.table.get(&file)?;
        Ok(f.file.sync_data().map_err(|e| io_error(&f.path, e)))
    }

    fn size(&mut self, file: Resource<HostFile>) -> wasmtime::Result<Result<u64, FileError>> {
        let f = self.table.get(&file)?;
        Ok(f.file
            .metadata()
            .map(|m| m.len())
            .map_err(|e| io_error(&f.path, e)))
    }

    fn drop(&mut self, file: Resource<HostFile>) -> wasmtime::Result<()> {
        self.table.delete(file)?;
        Ok(())
    }
}
