//! A store in a local directory (native only): the lake folder of the CLI and
//! of native tests. Writes go to a temporary file in the same directory that
//! is then renamed into place, so readers never see a partial file.

use std::fs::{self, File};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::ops::Range;
use std::path::{Path, PathBuf};

use async_trait::async_trait;
use bytes::Bytes;

use crate::lock::LockTable;
use crate::{CommitLock, Error, ObjectMeta, Result, Store, path};

/// Temporary files start with this and are never listed.
const TEMP_PREFIX: &str = ".lakelab-tmp";

pub struct LocalStore {
    root: PathBuf,
    locks: LockTable,
}

impl LocalStore {
    /// A store rooted at `root`, which is created if missing.
    pub fn new(root: impl Into<PathBuf>) -> Result<Self> {
        let root = root.into();
        fs::create_dir_all(&root).map_err(|e| Error::io(&root.display().to_string(), e))?;
        Ok(LocalStore {
            root,
            locks: LockTable::default(),
        })
    }

    fn file_path(&self, key: &str) -> Result<PathBuf> {
        let mut full = self.root.clone();
        full.extend(path::segments(key)?);
        Ok(full)
    }

    /// Writes `data` into a temporary file beside `key`'s final place.
    fn write_temp(&self, key: &str, data: &[u8]) -> Result<(tempfile::NamedTempFile, PathBuf)> {
        let target = self.file_path(key)?;
        let dir = target.parent().unwrap_or(&self.root);
        fs::create_dir_all(dir).map_err(|e| map_io(key, e))?;
        let mut temp = tempfile::Builder::new()
            .prefix(TEMP_PREFIX)
            .tempfile_in(dir)
            .map_err(|e| map_io(key, e))?;
        temp.write_all(data).map_err(|e| map_io(key, e))?;
        temp.as_file().sync_all().map_err(|e| map_io(key, e))?;
        Ok((temp, target))
    }
}

fn map_io(key: &str, err: io::Error) -> Error {
    match err.kind() {
        io::ErrorKind::NotFound => Error::NotFound(key.to_owned()),
        io::ErrorKind::AlreadyExists => Error::AlreadyExists(key.to_owned()),
        io::ErrorKind::StorageFull | io::ErrorKind::QuotaExceeded => {
            Error::QuotaExceeded(key.to_owned())
        }
        _ => Error::io(key, err),
    }
}

fn walk(root: &Path, dir: &Path, out: &mut Vec<ObjectMeta>) -> io::Result<()> {
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name();
        if name.to_string_lossy().starts_with(TEMP_PREFIX) {
            continue;
        }
        let kind = entry.file_type()?;
        if kind.is_dir() {
            walk(root, &entry.path(), out)?;
        } else if kind.is_file() {
            let full = entry.path();
            let rel = full.strip_prefix(root).unwrap_or(&full);
            let key: Vec<String> = rel
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect();
            out.push(ObjectMeta {
                path: key.join("/"),
                size: entry.metadata()?.len(),
            });
        }
    }
    Ok(())
}

#[async_trait(?Send)]
impl Store for LocalStore {
    async fn get(&self, key: &str) -> Result<Bytes> {
        let data = fs::read(self.file_path(key)?).map_err(|e| map_io(key, e))?;
        Ok(Bytes::from(data))
    }

    async fn get_range(&self, key: &str, range: Range<u64>) -> Result<Bytes> {
        let mut file = File::open(self.file_path(key)?).map_err(|e| map_io(key, e))?;
        let size = file.metadata().map_err(|e| map_io(key, e))?.len();
        crate::check_range(key, &range, size)?;
        let mut buf = vec![0; (range.end - range.start) as usize];
        file.seek(SeekFrom::Start(range.start))
            .and_then(|_| file.read_exact(&mut buf))
            .map_err(|e| map_io(key, e))?;
        Ok(Bytes::from(buf))
    }

    async fn put(&self, key: &str, data: Bytes) -> Result<()> {
        let (temp, target) = self.write_temp(key, &data)?;
        temp.persist(&target).map_err(|e| map_io(key, e.error))?;
        Ok(())
    }

    async fn put_if_absent(&self, key: &str, data: Bytes) -> Result<()> {
        let (temp, target) = self.write_temp(key, &data)?;
        // A hard link (or renameat2 NOREPLACE) fails if the target exists: atomic create.
        temp.persist_noclobber(&target)
            .map_err(|e| map_io(key, e.error))?;
        Ok(())
    }

    async fn list(&self, prefix: &str) -> Result<Vec<ObjectMeta>> {
        let mut all = Vec::new();
        walk(&self.root, &self.root, &mut all).map_err(|e| map_io(prefix, e))?;
        all.retain(|meta| meta.path.starts_with(prefix));
        all.sort_by(|a, b| a.path.cmp(&b.path));
        Ok(all)
    }

    async fn delete(&self, key: &str) -> Result<()> {
        fs::remove_file(self.file_path(key)?).map_err(|e| map_io(key, e))
    }

    async fn lock(&self, name: &str) -> Result<CommitLock> {
        Ok(self.locks.lock(name).await)
    }
}
