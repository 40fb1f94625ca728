//! The store in the browser: the Origin Private File System.
//!
//! Written on web-sys rather than the `opfs` crate: that crate has neither the
//! Web Locks nor `FileSystemHandle.move()` that atomic creation needs here, and
//! natively pulls in all of tokio; what we need is a few dozen calls.
//!
//! Atomicity. Replacing an existing file goes through `createWritable()`,
//! whose writes land in a swap file that replaces the original only on
//! `close()`. A new file is written under a temporary name and then moved
//! into place, because `getFileHandle({create: true})` would show an empty
//! file to readers while it is written. Every write to one path runs under a
//! Web Lock named after it, so the existence check of `put_if_absent` and the
//! move that follows are one step for every tab of the origin. A data file
//! (`put_new`) needs none of this: it is written in place, being read only
//! after the commit that names it.

use std::cell::RefCell;
use std::ops::Range;

use async_trait::async_trait;
use bytes::Bytes;
use futures::FutureExt;
use js_sys::{Function, Promise, Reflect, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{
    Blob, DomException, File, FileSystemDirectoryHandle, FileSystemFileHandle,
    FileSystemGetDirectoryOptions, FileSystemGetFileOptions, FileSystemHandle,
    FileSystemHandleKind, FileSystemWritableFileStream, StorageManager,
};

use crate::{CommitLock, Error, ObjectMeta, Result, Store, path};

/// Temporary files start with this and are never listed.
const TEMP_PREFIX: &str = ".lakelab-tmp-";

#[wasm_bindgen]
extern "C" {
    /// `navigator.locks` (web-sys has it only behind `web_sys_unstable_apis`).
    type LockManager;
    #[wasm_bindgen(method)]
    fn request(this: &LockManager, name: &str, callback: &Function) -> Promise;

    /// A file handle with `move()` (not in web-sys yet; Chromium ships it for OPFS).
    type MovableFileHandle;
    #[wasm_bindgen(method, js_name = move)]
    fn move_to(this: &MovableFileHandle, dir: &FileSystemDirectoryHandle, name: &str) -> Promise;
}

pub struct OpfsStore {
    root: FileSystemDirectoryHandle,
    /// Distinguishes the Web Lock names of stores rooted in different folders.
    lock_scope: String,
}

impl OpfsStore {
    /// Opens `folder` (created if missing) inside the origin's private file
    /// system; `""` opens the root itself.
    pub async fn open(folder: &str) -> Result<Self> {
        let storage: StorageManager = navigator_property("storage")
            .map_err(|e| js_error(folder, e))?
            .unchecked_into();
        let mut dir: FileSystemDirectoryHandle = JsFuture::from(storage.get_directory())
            .await
            .map_err(|e| js_error(folder, e))?
            .unchecked_into();
        if !folder.is_empty() {
            for segment in path::segments(folder)? {
                dir = child_dir(&dir, segment, true)
                    .await
                    .map_err(|e| js_error(folder, e))?;
            }
        }
        Ok(OpfsStore {
            root: dir,
            lock_scope: folder.to_owned(),
        })
    }

    /// The directory holding `key` and the file's name in it.
    async fn parent(&self, key: &str, create: bool) -> Result<(FileSystemDirectoryHandle, String)> {
        let segments = path::segments(key)?;
        let (name, dirs) = segments
            .split_last()
            .ok_or_else(|| Error::NotFound(key.to_owned()))?;
        let mut dir = self.root.clone();
        for segment in dirs {
            dir = child_dir(&dir, segment, create)
                .await
                .map_err(|e| js_error(key, e))?;
        }
        Ok((dir, (*name).to_owned()))
    }

    async fn file(&self, key: &str) -> Result<File> {
        let (dir, name) = self.parent(key, false).await?;
        let handle = file_handle(&dir, &name, false)
            .await
            .map_err(|e| js_error(key, e))?;
        Ok(JsFuture::from(handle.get_file())
            .await
            .map_err(|e| js_error(key, e))?
            .unchecked_into())
    }

    /// Writes `data` to `key`; the caller holds the path's lock.
    async fn write_locked(&self, key: &str, data: &[u8], must_be_new: bool) -> Result<()> {
        let (dir, name) = self.parent(key, true).await?;
        match file_handle(&dir, &name, false).await {
            Ok(_) if must_be_new => Err(Error::AlreadyExists(key.to_owned())),
            Ok(existing) => write_via_swap_file(&existing, data)
                .await
                .map_err(|e| js_error(key, e)),
            Err(e) if is_not_found(&e) => {
                let temp_name = format!("{TEMP_PREFIX}{name}-{}", random_suffix());
                let temp = file_handle(&dir, &temp_name, true)
                    .await
                    .map_err(|e| js_error(key, e))?;
                let written = async {
                    write_via_swap_file(&temp, data).await?;
                    JsFuture::from(
                        temp.unchecked_ref::<MovableFileHandle>()
                            .move_to(&dir, &name),
                    )
                    .await
                }
                .await;
                if let Err(e) = written {
                    // Best effort: the temporary file is invisible to readers anyway.
                    let _ = JsFuture::from(dir.remove_entry(&temp_name)).await;
                    return Err(js_error(key, e));
                }
                Ok(())
            }
            Err(e) => Err(js_error(key, e)),
        }
    }

    async fn write(&self, key: &str, data: &[u8], must_be_new: bool) -> Result<()> {
        path::segments(key)?;
        let _guard = web_lock(&format!("lakelab-path:{}/{key}", self.lock_scope)).await?;
        self.write_locked(key, data, must_be_new).await
    }
}

#[async_trait(?Send)]
impl Store for OpfsStore {
    async fn get(&self, key: &str) -> Result<Bytes> {
        let file = self.file(key).await?;
        read_blob(key, &file).await
    }

    async fn get_range(&self, key: &str, range: Range<u64>) -> Result<Bytes> {
        let file = self.file(key).await?;
        let size = file.size() as u64;
        crate::check_range(key, &range, size)?;
        let part = file
            .slice_with_f64_and_f64(range.start as f64, range.end as f64)
            .map_err(|e| js_error(key, e))?;
        read_blob(key, &part).await
    }

    async fn put(&self, key: &str, data: Bytes) -> Result<()> {
        self.write(key, &data, false).await
    }

    async fn put_if_absent(&self, key: &str, data: Bytes) -> Result<()> {
        self.write(key, &data, true).await
    }

    /// No Web Lock, existence check, temporary name or move: nobody else
    /// writes this name and no reader looks for it before it is published,
    /// so a part left by a crash is never read. Each skipped step is a round
    /// trip to the browser process: a 40 kB file takes ~5 ms this way and
    /// ~8 ms through `put` (headless Chromium, a dedicated worker).
    async fn put_new(&self, key: &str, data: Bytes) -> Result<()> {
        let (dir, name) = self.parent(key, true).await?;
        let handle = file_handle(&dir, &name, true)
            .await
            .map_err(|e| js_error(key, e))?;
        write_via_swap_file(&handle, &data)
            .await
            .map_err(|e| js_error(key, e))
    }

    async fn list(&self, prefix: &str) -> Result<Vec<ObjectMeta>> {
        // Start in the deepest folder the prefix names in full.
        let (dir_part, _) = prefix.rsplit_once('/').unwrap_or(("", prefix));
        let mut dir = self.root.clone();
        if !dir_part.is_empty() {
            for segment in path::segments(dir_part)? {
                match child_dir(&dir, segment, false).await {
                    Ok(child) => dir = child,
                    Err(e) if is_not_found(&e) => return Ok(Vec::new()),
                    Err(e) => return Err(js_error(prefix, e)),
                }
            }
        }
        let mut found = Vec::new();
        walk(dir, dir_part.to_owned(), prefix, &mut found)
            .await
            .map_err(|e| js_error(prefix, e))?;
        found.sort_by(|a, b| a.path.cmp(&b.path));
        Ok(found)
    }

    async fn delete(&self, key: &str) -> Result<()> {
        let (dir, name) = self.parent(key, false).await?;
        // removeEntry would also remove a folder; a key names a file.
        file_handle(&dir, &name, false)
            .await
            .map_err(|e| js_error(key, e))?;
        JsFuture::from(dir.remove_entry(&name))
            .await
            .map_err(|e| js_error(key, e))?;
        Ok(())
    }

    async fn lock(&self, name: &str) -> Result<CommitLock> {
        web_lock(&format!("lakelab-lock:{}/{name}", self.lock_scope)).await
    }
}

/// Appends every file below `dir` (whose key is `dir_key`) that starts with `prefix`.
fn walk<'a>(
    dir: FileSystemDirectoryHandle,
    dir_key: String,
    prefix: &'a str,
    out: &'a mut Vec<ObjectMeta>,
) -> futures::future::LocalBoxFuture<'a, std::result::Result<(), JsValue>> {
    async move {
        let entries = dir.values();
        loop {
            let step = JsFuture::from(entries.next()?).await?;
            if Reflect::get(&step, &"done".into())?
                .as_bool()
                .unwrap_or(true)
            {
                return Ok(());
            }
            let handle: FileSystemHandle = Reflect::get(&step, &"value".into())?.unchecked_into();
            let name = handle.name();
            if name.starts_with(TEMP_PREFIX) {
                continue;
            }
            let key = if dir_key.is_empty() {
                name
            } else {
                format!("{dir_key}/{name}")
            };
            match handle.kind() {
                FileSystemHandleKind::File if key.starts_with(prefix) => {
                    let file: File =
                        JsFuture::from(handle.unchecked_into::<FileSystemFileHandle>().get_file())
                            .await?
                            .unchecked_into();
                    out.push(ObjectMeta {
                        path: key,
                        size: file.size() as u64,
                    });
                }
                FileSystemHandleKind::Directory
                    if key.starts_with(prefix) || prefix.starts_with(&format!("{key}/")) =>
                {
                    walk(handle.unchecked_into(), key, prefix, out).await?;
                }
                _ => {}
            }
        }
    }
    .boxed_local()
}

fn navigator_property(name: &str) -> std::result::Result<JsValue, JsValue> {
    let navigator = Reflect::get(&js_sys::global(), &"navigator".into())?;
    let value = Reflect::get(&navigator, &name.into())?;
    if value.is_undefined() {
        return Err(js_sys::Error::new(&format!("navigator.{name} is not available here")).into());
    }
    Ok(value)
}

async fn child_dir(
    dir: &FileSystemDirectoryHandle,
    name: &str,
    create: bool,
) -> std::result::Result<FileSystemDirectoryHandle, JsValue> {
    let options = FileSystemGetDirectoryOptions::new();
    options.set_create(create);
    let handle = JsFuture::from(dir.get_directory_handle_with_options(name, &options)).await?;
    Ok(handle.unchecked_into())
}

async fn file_handle(
    dir: &FileSystemDirectoryHandle,
    name: &str,
    create: bool,
) -> std::result::Result<FileSystemFileHandle, JsValue> {
    let options = FileSystemGetFileOptions::new();
    options.set_create(create);
    let handle = JsFuture::from(dir.get_file_handle_with_options(name, &options)).await?;
    Ok(handle.unchecked_into())
}

/// Writes the whole file through a swap file that replaces it on `close()`.
async fn write_via_swap_file(
    handle: &FileSystemFileHandle,
    data: &[u8],
) -> std::result::Result<(), JsValue> {
    let stream: FileSystemWritableFileStream = JsFuture::from(handle.create_writable())
        .await?
        .unchecked_into();
    // A copy outside wasm memory: some engines write the whole heap when
    // handed a view into it.
    let chunk = Uint8Array::new_with_length(data.len() as u32);
    chunk.copy_from(data);
    let written = async {
        JsFuture::from(stream.write_with_js_u8_array(&chunk)?).await?;
        JsFuture::from(stream.close()).await
    }
    .await;
    if let Err(e) = written {
        // Discard the swap file: the original stays as it was.
        let _ = JsFuture::from(stream.abort()).await;
        return Err(e);
    }
    Ok(())
}

async fn read_blob(key: &str, blob: &Blob) -> Result<Bytes> {
    let buffer = JsFuture::from(blob.array_buffer())
        .await
        .map_err(|e| js_error(key, e))?;
    Ok(Bytes::from(Uint8Array::new(&buffer).to_vec()))
}

fn random_suffix() -> String {
    format!(
        "{:016x}",
        (js_sys::Math::random() * (u64::MAX as f64)) as u64
    )
}

fn is_not_found(err: &JsValue) -> bool {
    err.dyn_ref::<DomException>()
        .is_some_and(|e| matches!(e.name().as_str(), "NotFoundError" | "TypeMismatchError"))
}

fn js_error(key: &str, err: JsValue) -> Error {
    if let Some(dom) = err.dyn_ref::<DomException>() {
        return match dom.name().as_str() {
            "NotFoundError" | "TypeMismatchError" => Error::NotFound(key.to_owned()),
            "QuotaExceededError" => Error::QuotaExceeded(key.to_owned()),
            name => Error::io(key, format!("{name}: {}", dom.message())),
        };
    }
    if let Some(js) = err.dyn_ref::<js_sys::Error>() {
        return Error::io(key, String::from(js.message()));
    }
    Error::io(key, format!("{err:?}"))
}

/// Holds a granted Web Lock; dropping it resolves the promise the lock waits on.
struct HeldWebLock {
    release: Function,
    _callback: Closure<dyn FnMut(JsValue) -> Promise>,
}

impl Drop for HeldWebLock {
    fn drop(&mut self) {
        let _ = self.release.call0(&JsValue::UNDEFINED);
    }
}

/// Takes the Web Lock `name`, shared by every tab and worker of the origin.
async fn web_lock(name: &str) -> Result<CommitLock> {
    let locks: LockManager = navigator_property("locks")
        .map_err(|e| js_error(name, e))?
        .unchecked_into();
    let (granted_tx, granted_rx) = futures::channel::oneshot::channel::<Function>();
    let granted_tx = RefCell::new(Some(granted_tx));
    // The lock is held until the promise this callback returns settles.
    let callback = Closure::<dyn FnMut(JsValue) -> Promise>::new(move |_lock: JsValue| {
        Promise::new(&mut |resolve, _reject| {
            if let Some(tx) = granted_tx.borrow_mut().take() {
                let _ = tx.send(resolve);
            }
        })
    });
    let request = JsFuture::from(locks.request(name, callback.as_ref().unchecked_ref()));
    futures::select! {
        granted = granted_rx.fuse() => match granted {
            Ok(release) => Ok(CommitLock::new(HeldWebLock { release, _callback: callback })),
            Err(_) => Err(Error::io(name, "the lock request was dropped")),
        },
        failed = request.fuse() => Err(match failed {
            Err(e) => js_error(name, e),
            Ok(_) => Error::io(name, "the lock was released before it was granted"),
        }),
    }
}
