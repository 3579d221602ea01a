//! What is already in a Procore folder (a Documents listing) and what a file whose
//! name is taken there becomes ([`OnExisting`], [`decide`]).

use super::super::json::{quote, Json};
use super::super::Error;

/// What becomes of a file whose name is taken in its folder (`onExisting`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OnExisting {
    /// A new version of the file already there (the default).
    #[default]
    Version,
    /// A new file that Procore renames (`unique_name: true`).
    Rename,
    /// Left as it is: nothing sent for it.
    Skip,
    /// The file fails; the others go on.
    Error,
}

impl OnExisting {
    /// From `"version"`, `"rename"`, `"skip"` or `"error"`.
    pub fn parse(text: &str) -> Result<Self, Error> {
        match text {
            "version" => Ok(Self::Version),
            "rename" => Ok(Self::Rename),
            "skip" => Ok(Self::Skip),
            "error" => Ok(Self::Error),
            other => Err(Error::InvalidInput(format!(
                "onExisting must be \"version\", \"rename\", \"skip\" or \"error\", got {}",
                quote(other)
            ))),
        }
    }

    /// As JS writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Version => "version",
            Self::Rename => "rename",
            Self::Skip => "skip",
            Self::Error => "error",
        }
    }
}

/// A folder or file found in a listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Child {
    /// Its name.
    pub name: String,
    /// Its id.
    pub id: u64,
}

/// The children of one Procore folder (or of the Documents root), as
/// `GET /rest/v1.0/folders[/{id}]` answers them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Listing {
    /// Its folders, but the recycle bin and deleted ones.
    pub folders: Vec<Child>,
    /// Its files, but deleted ones.
    pub files: Vec<Child>,
}

impl Listing {
    /// Reads a folder as Procore answers it (`{ "id", "name", "folders": [...],
    /// "files": [...] }`, the root without an id). Items marked `is_deleted` (in the
    /// recycle bin) and the recycle bin itself (`is_recycle_bin`) are left out: a
    /// tree never goes into them. A listing without both arrays, or an item
    /// without an integer `id` and a string `name`, is [`Error::Protocol`].
    pub fn parse(folder: &Json) -> Result<Self, Error> {
        Ok(Self {
            folders: children(folder, "folders")?,
            files: children(folder, "files")?,
        })
    }

    /// The id of the folder named exactly `name`, the first if there are several.
    pub fn folder(&self, name: &str) -> Option<u64> {
        find(&self.folders, name)
    }

    /// The id of the file named exactly `name`, the first if there are several.
    pub fn file(&self, name: &str) -> Option<u64> {
        find(&self.files, name)
    }
}

fn find(children: &[Child], name: &str) -> Option<u64> {
    children
        .iter()
        .find(|child| child.name == name)
        .map(|child| child.id)
}

fn children(folder: &Json, key: &str) -> Result<Vec<Child>, Error> {
    let bad = |what: &str| Error::Protocol(format!("a folder listing {what}"));
    let items = folder
        .get(key)
        .and_then(Json::as_array)
        .ok_or_else(|| bad(&format!("without a {key} array")))?;
    let mut out = Vec::with_capacity(items.len());
    for item in items {
        let flag = |name: &str| item.get(name).and_then(Json::as_bool) == Some(true);
        let id = item.get("id").and_then(Json::as_u64);
        let name = item.get("name").and_then(Json::as_str);
        let (Some(id), Some(name)) = (id, name) else {
            return Err(bad(&format!(
                "with an item of {key} without an integer id and a string name"
            )));
        };
        if !flag("is_deleted") && !flag("is_recycle_bin") {
            out.push(Child {
                name: name.to_string(),
                id,
            });
        }
    }
    Ok(out)
}

/// What to do with a file, given what its folder already holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileAction {
    /// `POST /rest/v1.0/files` with this `unique_name`.
    Create {
        /// Whether Procore renames it should the name be taken.
        unique_name: bool,
    },
    /// `POST /rest/v1.0/file_versions?file_id=`: a new version of that file.
    NewVersion {
        /// The file already there.
        file_id: u64,
    },
    /// Nothing sent: the file already there stays.
    Skip {
        /// The file already there.
        file_id: u64,
    },
    /// The file fails: its name is taken (by `file_id`, or, when `None`, by
    /// something the listing shows as no file of exactly that name: a folder, a
    /// name Procore deems the same).
    Fail {
        /// The file already there, when the listing shows it.
        file_id: Option<u64>,
    },
}

/// What becomes of the file `name` in a folder holding `files` (its listing's
/// files), under `policy`. `refused_before`: a create of this name in this folder
/// already answered "name taken" (another client made it meanwhile, and `files` is
/// the listing asked for since): when the name is still not among `files`, Procore
/// holds it by a rule the listing does not show, and the file fails rather than be
/// tried again without end.
///
/// A free name is created without `unique_name`, but under [`OnExisting::Rename`]:
/// should another client take it meanwhile, "name taken" comes back and the file is
/// decided again on a fresh listing.
pub fn decide(files: &[Child], name: &str, policy: OnExisting, refused_before: bool) -> FileAction {
    let unique_name = policy == OnExisting::Rename;
    match find(files, name) {
        None if refused_before && !unique_name => FileAction::Fail { file_id: None },
        None => FileAction::Create { unique_name },
        Some(file_id) => match policy {
            OnExisting::Version => FileAction::NewVersion { file_id },
            OnExisting::Rename => FileAction::Create { unique_name },
            OnExisting::Skip => FileAction::Skip { file_id },
            OnExisting::Error => FileAction::Fail {
                file_id: Some(file_id),
            },
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policies_parse() {
        for policy in [
            OnExisting::Version,
            OnExisting::Rename,
            OnExisting::Skip,
            OnExisting::Error,
        ] {
            assert_eq!(OnExisting::parse(policy.as_str()), Ok(policy));
        }
        assert_eq!(OnExisting::default(), OnExisting::Version);
        for bad in ["", "Version", "overwrite", "skip ", "versions"] {
            match OnExisting::parse(bad) {
                Err(Error::InvalidInput(message)) => assert_eq!(
                    message,
                    format!(
                        "onExisting must be \"version\", \"rename\", \"skip\" or \"error\", got {}",
                        quote(bad)
                    )
                ),
                other => panic!("{bad:?}: {other:?}"),
            }
        }
    }

    /// Every policy, with the name free, taken, taken by another case only, and
    /// after a "name taken" answer.
    #[test]
    fn decisions_table() {
        use FileAction::*;
        use OnExisting as P;
        let files = [
            Child {
                name: "a.pdf".into(),
                id: 7,
            },
            Child {
                name: "b.pdf".into(),
                id: 8,
            },
            Child {
                name: "a.pdf".into(),
                id: 9,
            },
        ];
        let table: &[(&str, P, bool, FileAction)] = &[
            ("new.pdf", P::Version, false, Create { unique_name: false }),
            ("new.pdf", P::Rename, false, Create { unique_name: true }),
            ("new.pdf", P::Skip, false, Create { unique_name: false }),
            ("new.pdf", P::Error, false, Create { unique_name: false }),
            ("a.pdf", P::Version, false, NewVersion { file_id: 7 }),
            ("b.pdf", P::Version, false, NewVersion { file_id: 8 }),
            ("a.pdf", P::Rename, false, Create { unique_name: true }),
            ("a.pdf", P::Skip, false, Skip { file_id: 7 }),
            ("a.pdf", P::Error, false, Fail { file_id: Some(7) }),
            // Exact names: another case, or a space more, is another name.
            ("A.PDF", P::Version, false, Create { unique_name: false }),
            ("a.pdf ", P::Skip, false, Create { unique_name: false }),
            // After "name taken": the fresh listing shows it, or it does not.
            ("a.pdf", P::Version, true, NewVersion { file_id: 7 }),
            ("a.pdf", P::Skip, true, Skip { file_id: 7 }),
            ("a.pdf", P::Error, true, Fail { file_id: Some(7) }),
            ("A.PDF", P::Version, true, Fail { file_id: None }),
            ("A.PDF", P::Skip, true, Fail { file_id: None }),
            ("A.PDF", P::Error, true, Fail { file_id: None }),
            ("A.PDF", P::Rename, true, Create { unique_name: true }),
        ];
        for &(name, policy, refused_before, action) in table {
            assert_eq!(
                decide(&files, name, policy, refused_before),
                action,
                "{name} {policy:?} {refused_before}"
            );
        }
        assert_eq!(
            decide(&[], "a", P::Version, false),
            Create { unique_name: false }
        );
    }

    #[test]
    fn listings_table() {
        let j = |text: &str| Json::parse(text).unwrap();
        let child = |name: &str, id| Child {
            name: name.into(),
            id,
        };
        let good = j(r#"{
            "id": 1, "name": "Plans", "parent_id": null,
            "folders": [
                {"id": 11, "name": "A", "is_deleted": false, "is_recycle_bin": false},
                {"id": 12, "name": "Recycle Bin", "is_recycle_bin": true},
                {"id": 13, "name": "old", "is_deleted": true},
                {"id": 14, "name": "B"}
            ],
            "files": [
                {"id": 21, "name": "a.pdf", "is_deleted": false, "file_versions": []},
                {"id": 22, "name": "gone.pdf", "is_deleted": true}
            ]
        }"#);
        let listing = Listing::parse(&good).unwrap();
        assert_eq!(listing.folders, vec![child("A", 11), child("B", 14)]);
        assert_eq!(listing.files, vec![child("a.pdf", 21)]);
        assert_eq!(listing.folder("B"), Some(14));
        assert_eq!(listing.folder("Recycle Bin"), None);
        assert_eq!(listing.folder("a.pdf"), None);
        assert_eq!(listing.file("a.pdf"), Some(21));
        assert_eq!(
            Listing::parse(&j(r#"{"folders": [], "files": []}"#)),
            Ok(Listing::default())
        );
        let bad: &[(&str, &str)] = &[
            (r#"{"files": []}"#, "without a folders array"),
            (r#"{"folders": [], "files": {}}"#, "without a files array"),
            (r#"[]"#, "without a folders array"),
            (
                r#"{"folders": [{"id": "11", "name": "A"}], "files": []}"#,
                "with an item of folders without an integer id and a string name",
            ),
            (
                r#"{"folders": [], "files": [{"id": 1}]}"#,
                "with an item of files without an integer id and a string name",
            ),
            (
                r#"{"folders": [], "files": [{"id": -1, "name": "x"}]}"#,
                "with an item of files without an integer id and a string name",
            ),
        ];
        for (text, why) in bad {
            assert_eq!(
                Listing::parse(&j(text)),
                Err(Error::Protocol(format!("a folder listing {why}"))),
                "{text}"
            );
        }
    }
}
