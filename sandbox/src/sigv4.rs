//! AWS Signature Version 4 as S3 takes it: presigned URLs, browser POST policies, and
//! header-signed requests (for the sandbox's own calls to its storage).
//!
//! Reference: <https://docs.aws.amazon.com/AmazonS3/latest/API/sig-v4-authenticating-requests.html>.

use hmac::{Hmac, KeyInit, Mac};
use sha2::{Digest, Sha256};
use time::{format_description::FormatItem, macros::format_description, OffsetDateTime};
use url::Url;

/// The payload hash of a presigned request: S3 (and Garage) sign presigned URLs
/// without the body, even when `x-amz-content-sha256` is among the signed headers.
pub const UNSIGNED_PAYLOAD: &str = "UNSIGNED-PAYLOAD";
const ALGORITHM: &str = "AWS4-HMAC-SHA256";
const SERVICE: &str = "s3";
const AMZ_DATE: &[FormatItem<'static>] =
    format_description!("[year][month][day]T[hour][minute][second]Z");
const SCOPE_DATE: &[FormatItem<'static>] = format_description!("[year][month][day]");

/// An access key pair and the region it signs for.
#[derive(Clone, Debug)]
pub struct Credentials {
    /// Access key id.
    pub access_key: String,
    /// Secret access key.
    pub secret_key: String,
    /// Region in the credential scope.
    pub region: String,
}

/// The time parts of a signature.
struct Stamp {
    amz_date: String,
    scope: String,
    key: [u8; 32],
}

impl Credentials {
    fn stamp(&self, now: OffsetDateTime) -> Stamp {
        let now = now.to_offset(time::UtcOffset::UTC);
        let date = now.format(SCOPE_DATE).expect("fixed format");
        let key = signing_key(&self.secret_key, &date, &self.region);
        Stamp {
            amz_date: now.format(AMZ_DATE).expect("fixed format"),
            scope: format!("{date}/{}/{SERVICE}/aws4_request", self.region),
            key,
        }
    }

    /// Presigns `method url` for `expires_secs`, signing `headers` (names any case)
    /// plus `host`. The request must then carry exactly those header values.
    pub fn presign(
        &self,
        method: &str,
        url: &Url,
        headers: &[(&str, &str)],
        expires_secs: u64,
        now: OffsetDateTime,
    ) -> Url {
        let stamp = self.stamp(now);
        let mut signed: Vec<(String, String)> = headers
            .iter()
            .map(|(name, value)| (name.to_ascii_lowercase(), value.trim().to_string()))
            .collect();
        signed.push(("host".into(), host_header(url)));
        signed.sort();
        let signed_names = names_of(&signed);

        let mut url = url.clone();
        url.query_pairs_mut()
            .append_pair("X-Amz-Algorithm", ALGORITHM)
            .append_pair(
                "X-Amz-Credential",
                &format!("{}/{}", self.access_key, stamp.scope),
            )
            .append_pair("X-Amz-Date", &stamp.amz_date)
            .append_pair("X-Amz-Expires", &expires_secs.to_string())
            .append_pair("X-Amz-SignedHeaders", &signed_names);
        let canonical = canonical_request(method, &url, &signed, UNSIGNED_PAYLOAD);
        let signature = sign(&stamp, &canonical);
        url.query_pairs_mut()
            .append_pair("X-Amz-Signature", &signature);
        url
    }

    /// The headers that sign a request by `Authorization` (for the sandbox's own
    /// S3 calls): `x-amz-date`, `x-amz-content-sha256` and `authorization`.
    pub fn sign_request(
        &self,
        method: &str,
        url: &Url,
        body: &[u8],
        now: OffsetDateTime,
    ) -> Vec<(String, String)> {
        let stamp = self.stamp(now);
        let payload_hash = hex::encode(Sha256::digest(body));
        let mut signed = vec![
            ("host".to_string(), host_header(url)),
            ("x-amz-content-sha256".to_string(), payload_hash.clone()),
            ("x-amz-date".to_string(), stamp.amz_date.clone()),
        ];
        signed.sort();
        let signed_names = names_of(&signed);
        let canonical = canonical_request(method, url, &signed, &payload_hash);
        let signature = sign(&stamp, &canonical);
        vec![
            ("x-amz-date".into(), stamp.amz_date),
            ("x-amz-content-sha256".into(), payload_hash),
            (
                "authorization".into(),
                format!(
                    "{ALGORITHM} Credential={}/{}, SignedHeaders={signed_names}, Signature={signature}",
                    self.access_key, stamp.scope
                ),
            ),
        ]
    }

    /// Form fields for a browser POST upload of `key` into `bucket`, in the order they
    /// must be posted (the file goes last): `fields` first (as given), then `policy`,
    /// `x-amz-credential`, `x-amz-algorithm`, `x-amz-date`, `x-amz-signature`.
    ///
    /// The policy binds the bucket, every given field exactly, and the body size to
    /// `size_range`; it expires at `expiration`.
    pub fn post_policy(
        &self,
        bucket: &str,
        fields: &[(String, String)],
        size_range: (u64, u64),
        expiration: OffsetDateTime,
        now: OffsetDateTime,
    ) -> Vec<(String, String)> {
        let stamp = self.stamp(now);
        let expiration = expiration
            .to_offset(time::UtcOffset::UTC)
            .format(format_description!(
                "[year]-[month]-[day]T[hour]:[minute]:[second].000Z"
            ))
            .expect("fixed format");
        let credential = format!("{}/{}", self.access_key, stamp.scope);
        let mut conditions = vec![serde_json::json!({ "bucket": bucket })];
        for (name, value) in fields {
            conditions.push(serde_json::json!(["eq", format!("${name}"), value]));
        }
        conditions.push(serde_json::json!([
            "content-length-range",
            size_range.0,
            size_range.1
        ]));
        conditions.push(serde_json::json!({ "x-amz-credential": credential }));
        conditions.push(serde_json::json!({ "x-amz-algorithm": ALGORITHM }));
        conditions.push(serde_json::json!({ "x-amz-date": stamp.amz_date }));
        let policy = serde_json::json!({ "expiration": expiration, "conditions": conditions });
        let policy = base64::Engine::encode(
            &base64::engine::general_purpose::STANDARD,
            policy.to_string(),
        );
        let signature = hex::encode(hmac(&stamp.key, policy.as_bytes()));
        let mut out = fields.to_vec();
        out.extend([
            ("policy".into(), policy),
            ("x-amz-credential".into(), credential),
            ("x-amz-algorithm".into(), ALGORITHM.into()),
            ("x-amz-date".into(), stamp.amz_date),
            ("x-amz-signature".into(), signature),
        ]);
        out
    }
}

fn sign(stamp: &Stamp, canonical_request: &str) -> String {
    let string_to_sign = format!(
        "{ALGORITHM}\n{}\n{}\n{}",
        stamp.amz_date,
        stamp.scope,
        hex::encode(Sha256::digest(canonical_request.as_bytes()))
    );
    hex::encode(hmac(&stamp.key, string_to_sign.as_bytes()))
}

fn canonical_request(
    method: &str,
    url: &Url,
    signed: &[(String, String)],
    payload_hash: &str,
) -> String {
    let mut query: Vec<(String, String)> = url
        .query_pairs()
        .filter(|(name, _)| name != "X-Amz-Signature")
        .map(|(name, value)| (uri_encode(&name, true), uri_encode(&value, true)))
        .collect();
    query.sort();
    let query = query
        .iter()
        .map(|(n, v)| format!("{n}={v}"))
        .collect::<Vec<_>>()
        .join("&");
    let headers: String = signed.iter().map(|(n, v)| format!("{n}:{v}\n")).collect();
    let names = names_of(signed);
    // The URL keeps its path percent-encoded already; S3 does not encode it twice.
    format!(
        "{method}\n{}\n{query}\n{headers}\n{names}\n{payload_hash}",
        url.path()
    )
}

/// `SignedHeaders`: the sorted lowercase names joined by `;`.
fn names_of(signed: &[(String, String)]) -> String {
    signed
        .iter()
        .map(|(n, _)| n.as_str())
        .collect::<Vec<_>>()
        .join(";")
}

/// `host[:port]` as the client will send it in `Host`.
fn host_header(url: &Url) -> String {
    let host = url.host_str().unwrap_or_default();
    match url.port() {
        Some(port) => format!("{host}:{port}"),
        None => host.to_string(),
    }
}

/// SigV4 URI encoding: everything but unreserved characters, `/` too when asked.
pub fn uri_encode(input: &str, encode_slash: bool) -> String {
    let mut out = String::with_capacity(input.len());
    for byte in input.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(byte as char)
            }
            b'/' if !encode_slash => out.push('/'),
            _ => out.push_str(&format!("%{byte:02X}")),
        }
    }
    out
}

fn signing_key(secret: &str, date: &str, region: &str) -> [u8; 32] {
    let k_date = hmac(format!("AWS4{secret}").as_bytes(), date.as_bytes());
    let k_region = hmac(&k_date, region.as_bytes());
    let k_service = hmac(&k_region, SERVICE.as_bytes());
    hmac(&k_service, b"aws4_request")
}

fn hmac(key: &[u8], data: &[u8]) -> [u8; 32] {
    let mut mac =
        <Hmac<Sha256> as KeyInit>::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(data);
    mac.finalize().into_bytes().into()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// AWS's published presigned GET example (examplebucket, 86400 s, 2013-05-24):
    /// <https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-query-string-auth.html>
    #[test]
    fn aws_presigned_get_example() {
        let credentials = Credentials {
            access_key: "AKIAIOSFODNN7EXAMPLE".into(),
            secret_key: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY".into(),
            region: "us-east-1".into(),
        };
        let url = Url::parse("https://examplebucket.s3.amazonaws.com/test.txt").unwrap();
        let now = time::macros::datetime!(2013-05-24 00:00:00 UTC);
        let signed = credentials.presign("GET", &url, &[], 86400, now);
        let signature = signed
            .query_pairs()
            .find(|(n, _)| n == "X-Amz-Signature")
            .unwrap()
            .1;
        assert_eq!(
            signature,
            "aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404"
        );
    }

    #[test]
    fn uri_encoding_rules() {
        assert_eq!(uri_encode("a b/c~", false), "a%20b/c~");
        assert_eq!(uri_encode("a b/c~", true), "a%20b%2Fc~");
        assert_eq!(uri_encode("ü", true), "%C3%BC");
    }
}
