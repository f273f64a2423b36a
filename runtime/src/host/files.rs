//! The `files` capability: opening the files a connector's configuration
//! grants.
//!
//! The host opens the *granted* path (never the guest's string), so a
//! request can only ever reach a file an operator named in the config.

use std::fs::OpenOptions;
use std::io::Write;
use std::os::unix::fs::FileExt;
use std::path::PathBuf;

use std::sync::Arc;

use wasmtime::component::{HasData, Linker, Resource, ResourceTable};

use super::Identity;
use super::grants::{Beneath, FileAccess, Grants};
use crate::bindings::v0_2::wasmconnect::connector::files as files_v0_2;
use crate::bindings::wasmconnect::connector::files::{
    self, FileError, Host, HostFile as HostFileMethods, OpenMode,
};

/// Largest single read: guests ask for a size, the host allocates it, so
/// it is bounded.
const MAX_READ: u32 = 16 << 20;

/// An open granted file, held in the instance's resource table.
pub struct HostFile {
    file: std::fs::File,
    path: PathBuf,
    append: bool,
}

/// This capability's share of an instance's state.
pub struct FilesState {
    identity: Identity,
    grants: Arc<Grants>,
    cwd: PathBuf,
}

impl FilesState {
    /// `grants` for `identity`, relative requests resolving against `cwd`.
    pub fn new(identity: Identity, grants: Arc<Grants>, cwd: PathBuf) -> Self {
        FilesState {
            identity,
            grants,
            cwd,
        }
    }
}

/// What the capability works on: its state and the instance's resource
/// table (open files live there).
pub struct FilesCtx<'a> {
    /// The capability's state.
    pub state: &'a FilesState,
    /// The instance's resource table.
    pub table: &'a mut ResourceTable,
}

/// A store whose data holds a [`FilesState`].
pub trait FilesView: Send {
    /// The instance's files state and resource table.
    fn files(&mut self) -> FilesCtx<'_>;
}

struct Files;

impl HasData for Files {
    type Data<'a> = FilesCtx<'a>;
}

/// Adds the `files` import, both contract versions, to `linker`.
pub fn add_to_linker<T: FilesView + 'static>(linker: &mut Linker<T>) -> wasmtime::Result<()> {
    files::add_to_linker::<T, Files>(linker, T::files)?;
    files_v0_2::add_to_linker::<T, Files>(linker, T::files)
}

/// Opens a granted file: beneath its allowed directory with cap-std when
/// the worker bounds grants (a symlink or `..` placed inside cannot lead
/// out, even one made after validation), else at its path.
fn open_granted(
    path: &std::path::Path,
    beneath: Option<&Beneath>,
    append: bool,
) -> std::io::Result<std::fs::File> {
    let Some(Beneath { root, relative }) = beneath else {
        let mut options = OpenOptions::new();
        options.read(true);
        if append {
            options.create(true).append(true);
        }
        return options.open(path);
    };
    let dir = cap_std::fs::Dir::open_ambient_dir(root, cap_std::ambient_authority())?;
    let mut options = cap_std::fs::OpenOptions::new();
    options.read(true);
    if append {
        options.create(true).append(true);
    }
    dir.open_with(relative, &options)
        .map(cap_std::fs::File::into_std)
}

fn io_error(path: &std::path::Path, e: std::io::Error) -> FileError {
    FileError::Io(format!("{}: {e}", path.display()))
}

impl Host for FilesCtx<'_> {
    fn open(
        &mut self,
        path: String,
        mode: OpenMode,
    ) -> wasmtime::Result<Result<Resource<HostFile>, FileError>> {
        let state = self.state;
        let Some((granted, grant)) = state.grants.file(&path, &state.cwd) else {
            tracing::warn!(
                connector = &*state.identity.connector,
                task = state.identity.task,
                path,
                "plugin asked for a file its configuration does not grant"
            );
            return Ok(Err(FileError::NotGranted(format!(
                "{path} is not named by any file setting of this connector"
            ))));
        };
        let (granted, beneath) = (granted.to_path_buf(), grant.beneath.clone());
        let append = mode == OpenMode::Append;
        if append && grant.access != FileAccess::Append {
            return Ok(Err(FileError::NotGranted(format!(
                "{path} is granted for reading only"
            ))));
        }
        let opened = open_granted(&granted, beneath.as_ref(), append);
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

impl HostFileMethods for FilesCtx<'_> {
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

/// 0.2.0's `files`: the same calls over its own `open-mode` and
/// `file-error`; both versions' handles are [`HostFile`]s in the same table.
impl files_v0_2::Host for FilesCtx<'_> {
    fn open(
        &mut self,
        path: String,
        mode: files_v0_2::OpenMode,
    ) -> wasmtime::Result<Result<Resource<HostFile>, files_v0_2::FileError>> {
        let mode = match mode {
            files_v0_2::OpenMode::Read => OpenMode::Read,
            files_v0_2::OpenMode::Append => OpenMode::Append,
        };
        Ok(Host::open(self, path, mode)?.map_err(file_error_v0_2))
    }
}

impl files_v0_2::HostFile for FilesCtx<'_> {
    fn read(
        &mut self,
        file: Resource<HostFile>,
        offset: u64,
        max_len: u32,
    ) -> wasmtime::Result<Result<Vec<u8>, files_v0_2::FileError>> {
        Ok(HostFileMethods::read(self, file, offset, max_len)?.map_err(file_error_v0_2))
    }

    fn append(
        &mut self,
        file: Resource<HostFile>,
        data: Vec<u8>,
    ) -> wasmtime::Result<Result<(), files_v0_2::FileError>> {
        Ok(HostFileMethods::append(self, file, data)?.map_err(file_error_v0_2))
    }

    fn sync(
        &mut self,
        file: Resource<HostFile>,
    ) -> wasmtime::Result<Result<(), files_v0_2::FileError>> {
        Ok(HostFileMethods::sync(self, file)?.map_err(file_error_v0_2))
    }

    fn size(
        &mut self,
        file: Resource<HostFile>,
    ) -> wasmtime::Result<Result<u64, files_v0_2::FileError>> {
        Ok(HostFileMethods::size(self, file)?.map_err(file_error_v0_2))
    }

    fn drop(&mut self, file: Resource<HostFile>) -> wasmtime::Result<()> {
        HostFileMethods::drop(self, file)
    }
}

fn file_error_v0_2(e: FileError) -> files_v0_2::FileError {
    match e {
        FileError::NotGranted(m) => files_v0_2::FileError::NotGranted(m),
        FileError::NotFound(m) => files_v0_2::FileError::NotFound(m),
        FileError::Io(m) => files_v0_2::FileError::Io(m),
    }
}
