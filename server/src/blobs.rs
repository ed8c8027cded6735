//! Encrypted attachment blobs on disk: streamed in with their SHA-256 and size checked against
//! the signed envelope or forward, fsync'd, then renamed into place; streamed out as stored.

use std::path::{Path, PathBuf};

use axum::body::{Body, Bytes};
use ferry_crypto::hash::StreamDigest;
use ferry_crypto::seal::AttachmentBlob;
use futures_util::StreamExt;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::error::{ApiError, ApiResult};
use ferry_protocol::ErrorCode;

fn blob_path(dir: &Path, owner: &str, idx: u64) -> PathBuf {
    dir.join(format!("{owner}.{idx}.age"))
}

/// Streams `body` into the blob store, refusing it unless it is exactly `expected`.
pub async fn store(
    dir: &Path,
    owner: &str,
    idx: u64,
    expected: &AttachmentBlob,
    body: Body,
) -> ApiResult<()> {
    let tmp = dir.join(format!(".upload-{}", crate::random_token()));
    let result = write_checked(&tmp, expected, body).await;
    if let Err(e) = result {
        let _ = tokio::fs::remove_file(&tmp).await;
        return Err(e);
    }
    tokio::fs::rename(&tmp, blob_path(dir, owner, idx))
        .await
        .map_err(ApiError::internal)?;
    // Make the rename itself durable.
    if let Ok(d) = tokio::fs::File::open(dir).await {
        let _ = d.sync_all().await;
    }
    Ok(())
}

async fn write_checked(tmp: &Path, expected: &AttachmentBlob, body: Body) -> ApiResult<()> {
    let mut options = tokio::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    options.mode(0o600);
    let mut file = options.open(tmp).await.map_err(ApiError::internal)?;
    let mut digest = StreamDigest::default();
    let mut size = 0u64;
    let mut stream = body.into_data_stream();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|_| {
            ApiError::new(
                ErrorCode::UploadInterrupted,
                "the upload was interrupted; send it again",
            )
        })?;
        size += chunk.len() as u64;
        if size > expected.size {
            return Err(ApiError::new(
                ErrorCode::AttachmentMismatch,
                "the upload is larger than the signed attachment size",
            ));
        }
        digest.update(&chunk);
        file.write_all(&chunk).await.map_err(ApiError::internal)?;
    }
    let (sha256, len) = digest.finish();
    if len != expected.size || sha256 != expected.sha256 {
        return Err(ApiError::new(
            ErrorCode::AttachmentMismatch,
            "the upload does not match the signed attachment hash and size",
        ));
    }
    file.sync_all().await.map_err(ApiError::internal)?;
    Ok(())
}

/// Streams a stored blob out.
pub async fn read(dir: &Path, owner: &str, idx: u64) -> ApiResult<Body> {
    let file = tokio::fs::File::open(blob_path(dir, owner, idx))
        .await
        .map_err(|_| ApiError::not_found("attachment"))?;
    let stream = futures_util::stream::unfold(file, |mut file| async move {
        let mut buf = vec![0u8; 64 * 1024];
        match file.read(&mut buf).await {
            Ok(0) => None,
            Ok(n) => {
                buf.truncate(n);
                Some((Ok::<_, std::io::Error>(Bytes::from(buf)), file))
            }
            Err(e) => Some((Err(e), file)),
        }
    });
    Ok(Body::from_stream(stream))
}
