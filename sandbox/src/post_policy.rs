//! The browser POST policy of a v1 form upload, signed with AWS Signature Version 4:
//! the one piece of signing rusty-s3 does not do (it presigns URLs only).
//!
//! Reference: <https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-post-example.html>
//! and, for the signing key, <https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html>.

use hmac::{Hmac, KeyInit, Mac};
use jiff::Timestamp;
use sha2::Sha256;

use crate::s3_client::Credentials;

const ALGORITHM: &str = "AWS4-HMAC-SHA256";

/// Form fields for a browser POST upload into `bucket`, in the order they must be
/// posted (the file goes last): `fields` first (as given, `key` among them), then
/// `policy`, `x-amz-credential`, `x-amz-algorithm`, `x-amz-date`, `x-amz-signature`.
///
/// The policy binds the bucket, every given field exactly, and the body size to
/// `size_range`; it expires at `expiration`.
pub fn fields(
    credentials: &Credentials,
    bucket: &str,
    fields: &[(String, String)],
    size_range: (u64, u64),
    expiration: Timestamp,
    now: Timestamp,
) -> Vec<(String, String)> {
    let date = now.strftime("%Y%m%d").to_string();
    let amz_date = now.strftime("%Y%m%dT%H%M%SZ").to_string();
    let credential = format!(
        "{}/{date}/{}/s3/aws4_request",
        credentials.access_key, credentials.region
    );
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
    conditions.push(serde_json::json!({ "x-amz-date": amz_date }));
    let expiration = expiration.strftime("%Y-%m-%dT%H:%M:%S.000Z").to_string();
    let policy = serde_json::json!({ "expiration": expiration, "conditions": conditions });
    let policy = base64::Engine::encode(
        &base64::engine::general_purpose::STANDARD,
        policy.to_string(),
    );
    let key = signing_key(&credentials.secret_key, &date, &credentials.region, "s3");
    let signature = hex::encode(hmac(&key, policy.as_bytes()));
    let mut out = fields.to_vec();
    out.extend([
        ("policy".into(), policy),
        ("x-amz-credential".into(), credential),
        ("x-amz-algorithm".into(), ALGORITHM.into()),
        ("x-amz-date".into(), amz_date),
        ("x-amz-signature".into(), signature),
    ]);
    out
}

/// The SigV4 signing key of `secret` for a day (`YYYYMMDD`), region and service.
fn signing_key(secret: &str, date: &str, region: &str, service: &str) -> [u8; 32] {
    let k_date = hmac(format!("AWS4{secret}").as_bytes(), date.as_bytes());
    let k_region = hmac(&k_date, region.as_bytes());
    let k_service = hmac(&k_region, service.as_bytes());
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

    /// AWS's worked example of deriving a signing key (secret
    /// `wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY`, 2012-02-15, us-east-1, iam).
    #[test]
    fn aws_signing_key_example() {
        let key = signing_key(
            "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
            "20120215",
            "us-east-1",
            "iam",
        );
        assert_eq!(
            hex::encode(key),
            "f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d"
        );
    }

    /// The fields come in S3's order and the policy says what it binds.
    #[test]
    fn fields_in_order_and_the_policy_binds_them() {
        let credentials = Credentials {
            access_key: "AKID".into(),
            secret_key: "secret".into(),
            region: "garage".into(),
        };
        let now = Timestamp::from_second(1_369_353_600).unwrap(); // 2013-05-24
        let expiration = Timestamp::from_second(1_369_357_200).unwrap();
        let given = [
            ("key".to_string(), "k/1".to_string()),
            ("Content-Type".to_string(), "image/png".to_string()),
        ];
        let out = fields(&credentials, "b", &given, (3, 3), expiration, now);
        let names: Vec<&str> = out.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(
            names,
            [
                "key",
                "Content-Type",
                "policy",
                "x-amz-credential",
                "x-amz-algorithm",
                "x-amz-date",
                "x-amz-signature"
            ]
        );
        let value = |name: &str| &out.iter().find(|(n, _)| n == name).unwrap().1;
        assert_eq!(
            value("x-amz-credential"),
            "AKID/20130524/garage/s3/aws4_request"
        );
        assert_eq!(value("x-amz-date"), "20130524T000000Z");
        let policy =
            base64::Engine::decode(&base64::engine::general_purpose::STANDARD, value("policy"))
                .unwrap();
        let policy: serde_json::Value = serde_json::from_slice(&policy).unwrap();
        assert_eq!(policy["expiration"], "2013-05-24T01:00:00.000Z");
        assert_eq!(
            policy["conditions"][1],
            serde_json::json!(["eq", "$key", "k/1"])
        );
        assert_eq!(
            policy["conditions"][3],
            serde_json::json!(["content-length-range", 3, 3])
        );
        let key = signing_key("secret", "20130524", "garage", "s3");
        assert_eq!(
            value("x-amz-signature"),
            &hex::encode(hmac(&key, value("policy").as_bytes()))
        );
    }
}
