//! The embedded store's S3 implementation: s3s-fs plus the multipart bookkeeping real
//! S3 does and s3s-fs leaves out (ETags and paging in ListParts; CompleteMultipartUpload
//! refuses an ETag that is not the one returned for that part).

use std::collections::HashMap;
use std::sync::Mutex;

use s3s::dto::*;
use s3s::{s3_error, S3Request, S3Response, S3Result, S3};

/// s3s-fs with per-part ETags remembered.
pub struct Store {
    fs: s3s_fs::FileSystem,
    /// (upload id, part number) → ETag value (no quotes).
    part_etags: Mutex<HashMap<(String, i32), String>>,
}

impl Store {
    /// Wraps a file-system store.
    pub fn new(fs: s3s_fs::FileSystem) -> Self {
        Self {
            fs,
            part_etags: Mutex::new(HashMap::new()),
        }
    }

    fn etags(&self) -> std::sync::MutexGuard<'_, HashMap<(String, i32), String>> {
        self.part_etags
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// Methods passed straight to s3s-fs, written in the form `#[async_trait]` expands
/// to (it cannot see into a macro invocation).
macro_rules! delegate {
    ($($method:ident($input:ty) -> $output:ty;)*) => {
        $(
            fn $method<'life0, 'async_trait>(
                &'life0 self,
                req: S3Request<$input>,
            ) -> std::pin::Pin<Box<dyn std::future::Future<Output = S3Result<S3Response<$output>>> + Send + 'async_trait>>
            where
                'life0: 'async_trait,
                Self: 'async_trait,
            {
                self.fs.$method(req)
            }
        )*
    };
}

#[async_trait::async_trait]
impl S3 for Store {
    delegate! {
        create_bucket(CreateBucketInput) -> CreateBucketOutput;
        head_bucket(HeadBucketInput) -> HeadBucketOutput;
        put_object(PutObjectInput) -> PutObjectOutput;
        get_object(GetObjectInput) -> GetObjectOutput;
        head_object(HeadObjectInput) -> HeadObjectOutput;
        delete_object(DeleteObjectInput) -> DeleteObjectOutput;
        list_objects_v2(ListObjectsV2Input) -> ListObjectsV2Output;
        create_multipart_upload(CreateMultipartUploadInput) -> CreateMultipartUploadOutput;
        abort_multipart_upload(AbortMultipartUploadInput) -> AbortMultipartUploadOutput;
    }

    async fn upload_part(
        &self,
        req: S3Request<UploadPartInput>,
    ) -> S3Result<S3Response<UploadPartOutput>> {
        let key = (req.input.upload_id.clone(), req.input.part_number);
        let response = self.fs.upload_part(req).await?;
        if let Some(etag) = &response.output.e_tag {
            self.etags().insert(key, etag.value().to_string());
        }
        Ok(response)
    }

    async fn list_parts(
        &self,
        req: S3Request<ListPartsInput>,
    ) -> S3Result<S3Response<ListPartsOutput>> {
        let upload_id = req.input.upload_id.clone();
        // S3's paging (s3s-fs lists every part and says nothing of pages): at most
        // `max-parts` (1000 by default and at most) after `part-number-marker`.
        let max_parts = req.input.max_parts.unwrap_or(1000).clamp(1, 1000);
        let marker = req.input.part_number_marker.unwrap_or(0);
        let mut response = self.fs.list_parts(req).await?;
        let etags = self.etags();
        let output = &mut response.output;
        let mut parts = output.parts.take().unwrap_or_default();
        parts.retain(|p| p.part_number.is_some_and(|n| n > marker));
        parts.sort_by_key(|p| p.part_number);
        let truncated = parts.len() > max_parts as usize;
        parts.truncate(max_parts as usize);
        for part in &mut parts {
            if let Some(number) = part.part_number {
                part.e_tag = etags
                    .get(&(upload_id.clone(), number))
                    .cloned()
                    .map(ETag::Strong);
            }
        }
        output.max_parts = Some(max_parts);
        output.part_number_marker = Some(marker);
        output.is_truncated = Some(truncated);
        output.next_part_number_marker = parts.last().and_then(|p| p.part_number);
        output.parts = Some(parts);
        Ok(response)
    }

    async fn complete_multipart_upload(
        &self,
        req: S3Request<CompleteMultipartUploadInput>,
    ) -> S3Result<S3Response<CompleteMultipartUploadOutput>> {
        let upload_id = req.input.upload_id.clone();
        {
            let etags = self.etags();
            let parts = req
                .input
                .multipart_upload
                .as_ref()
                .and_then(|m| m.parts.as_ref());
            for part in parts.into_iter().flatten() {
                let number = part.part_number.unwrap_or(0);
                let given = part
                    .e_tag
                    .as_ref()
                    .map(|e| e.value().trim_matches('"').to_ascii_lowercase());
                let stored = etags
                    .get(&(upload_id.clone(), number))
                    .map(|e| e.to_ascii_lowercase());
                if stored.is_none() || given != stored {
                    return Err(s3_error!(
                        InvalidPart,
                        "One or more of the specified parts could not be found or its entity tag did not match (part {number})"
                    ));
                }
            }
        }
        let response = self.fs.complete_multipart_upload(req).await?;
        self.etags().retain(|(id, _), _| *id != upload_id);
        Ok(response)
    }
}
