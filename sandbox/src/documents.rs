//! Documents as Procore keeps them: per company (company Documents) and per project
//! (project Documents), a root folder holding folders and files; each file has one or
//! more versions, each version the bytes of one finished upload.
//!
//! The rules kept here (the API side maps their errors to answers):
//! - a name is taken in a folder by a folder of that name (for a new folder) or by a
//!   file of that name (for a new file); names compare exactly (case and Unicode form
//!   as sent);
//! - a new file whose name is taken is refused, or with `unique_name` renamed to the
//!   first free `stem (n).ext` (see [`numbered`]);
//! - a parent is a folder of the same company and project.
//!
//! Ids come from one counter shared with the sandbox's other records (see
//! `state::Inner::next_record_id`), so a folder id, a file id and a version id never
//! coincide.

use std::collections::BTreeMap;

use serde::Serialize;

/// Whose Documents: a company's (no project) or a project's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Place {
    /// The company.
    pub company_id: u64,
    /// The project; `None` for company Documents.
    pub project_id: Option<u64>,
}

impl std::fmt::Display for Place {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.project_id {
            Some(project) => write!(f, "project {project}"),
            None => write!(f, "company {}'s Documents", self.company_id),
        }
    }
}

/// One folder (the root too).
#[derive(Debug, Clone, Serialize)]
pub struct Folder {
    /// Its id.
    pub id: u64,
    /// Where it lives.
    pub place: Place,
    /// Its parent; `None` for the root.
    pub parent_id: Option<u64>,
    /// Its name.
    pub name: String,
    /// When it was created (RFC 3339, seconds).
    pub created_at: String,
}

/// One version of a file: the bytes of an upload, as they were when it was taken.
#[derive(Debug, Clone, Serialize)]
pub struct Version {
    /// Its id.
    pub id: u64,
    /// 1 for the first version, then 2, 3, ...
    pub number: u32,
    /// The upload it was made from.
    pub upload_uuid: String,
    /// The storage key of that upload's object.
    pub key: String,
    /// Bytes stored when the version was made.
    pub size: u64,
    /// Hex SHA-256 of those bytes.
    pub sha256: String,
    /// Hex MD5 of those bytes.
    pub md5: String,
    /// `notes`, if given.
    pub notes: Option<String>,
    /// `name` of a Create File Version (the name when downloaded), if given.
    pub download_name: Option<String>,
    /// When it was made.
    pub created_at: String,
}

/// One file.
#[derive(Debug, Clone, Serialize)]
pub struct File {
    /// Its id.
    pub id: u64,
    /// Where it lives.
    pub place: Place,
    /// Its folder.
    pub parent_id: u64,
    /// Its name (after a `unique_name` rename, the new one).
    pub name: String,
    /// `description`, if given.
    pub description: Option<String>,
    /// When it was created.
    pub created_at: String,
    /// Its versions, oldest first.
    pub versions: Vec<Version>,
}

/// The bytes and facts of a version to make (see [`Documents::create_file`],
/// [`Documents::add_version`]).
#[derive(Debug, Clone)]
pub struct NewVersion {
    /// The upload.
    pub upload_uuid: String,
    /// Its storage key.
    pub key: String,
    /// Bytes stored.
    pub size: u64,
    /// Hex SHA-256.
    pub sha256: String,
    /// Hex MD5.
    pub md5: String,
    /// Notes.
    pub notes: Option<String>,
    /// Name when downloaded.
    pub download_name: Option<String>,
}

/// A refused change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DocError {
    /// A folder of this name is already in the parent.
    FolderNameTaken,
    /// A file of this name is already in the folder (and no `unique_name`).
    FileNameTaken,
    /// The name cannot be a folder's or a file's name (the reason).
    BadName(String),
    /// No folder has this id.
    NoSuchFolder(u64),
    /// The folder exists, in other Documents.
    FolderElsewhere(u64),
    /// No file has this id (in these Documents).
    NoSuchFile(u64),
}

/// A name on its own: refused when blank, `.` or `..`, or holding a `/` or a control
/// character (the sandbox's rule: Procore does not document one; a name with a `/`
/// could not be told from a path).
pub fn check_name(name: &str) -> Result<(), DocError> {
    let reason = if name.trim().is_empty() {
        "must not be blank"
    } else if name == "." || name == ".." {
        "must not be . or .."
    } else if name.contains('/') {
        "must not contain /"
    } else if name.chars().any(char::is_control) {
        "must not contain control characters"
    } else {
        return Ok(());
    };
    Err(DocError::BadName(reason.into()))
}

/// The `n`th renamed form of `name` for `unique_name`: `plan (1).pdf`, `plan (2).pdf`
/// …; the number goes before the last extension (`a.tar (1).gz`), at the end of a
/// name without one (`notes (1)`) or of a name whose only dot leads (`.env (1)`).
/// (Procore does not document its form; this is the one most desktops use.)
pub fn numbered(name: &str, n: u32) -> String {
    match name.rfind('.') {
        Some(dot) if dot > 0 => format!("{} ({n}){}", &name[..dot], &name[dot..]),
        _ => format!("{name} ({n})"),
    }
}

/// Every company's and project's Documents.
#[derive(Debug, Default)]
pub struct Documents {
    roots: BTreeMap<Place, u64>,
    folders: BTreeMap<u64, Folder>,
    files: BTreeMap<u64, File>,
}

fn next(ids: &mut u64) -> u64 {
    *ids += 1;
    *ids
}

impl Documents {
    /// The root folder of `place`, made when first asked for.
    pub fn root(&mut self, ids: &mut u64, place: Place, now: &str) -> u64 {
        if let Some(&root) = self.roots.get(&place) {
            return root;
        }
        let id = next(ids);
        self.folders.insert(
            id,
            Folder {
                id,
                place,
                parent_id: None,
                name: "Documents".into(),
                created_at: now.into(),
            },
        );
        self.roots.insert(place, id);
        id
    }

    /// The root of `place` if made already.
    pub fn existing_root(&self, place: Place) -> Option<u64> {
        self.roots.get(&place).copied()
    }

    /// Folder `id`.
    pub fn folder(&self, id: u64) -> Option<&Folder> {
        self.folders.get(&id)
    }

    /// File `id`.
    pub fn file(&self, id: u64) -> Option<&File> {
        self.files.get(&id)
    }

    /// The file and the version with version id `id`.
    pub fn version(&self, id: u64) -> Option<(&File, &Version)> {
        self.files
            .values()
            .find_map(|file| Some((file, file.versions.iter().find(|v| v.id == id)?)))
    }

    /// Folder `id` when it lives in `place`.
    pub fn folder_in(&self, place: Place, id: u64) -> Result<&Folder, DocError> {
        match self.folders.get(&id) {
            Some(folder) if folder.place == place => Ok(folder),
            Some(_) => Err(DocError::FolderElsewhere(id)),
            None => Err(DocError::NoSuchFolder(id)),
        }
    }

    /// The folder a new item goes in: `parent`, or the root when `None`.
    fn parent(
        &mut self,
        ids: &mut u64,
        place: Place,
        parent: Option<u64>,
        now: &str,
    ) -> Result<u64, DocError> {
        match parent {
            Some(id) => self.folder_in(place, id).map(|folder| folder.id),
            None => Ok(self.root(ids, place, now)),
        }
    }

    /// The folders in folder `id`, by name (then id).
    pub fn subfolders(&self, id: u64) -> Vec<&Folder> {
        let mut found: Vec<&Folder> = self
            .folders
            .values()
            .filter(|f| f.parent_id == Some(id))
            .collect();
        found.sort_by(|a, b| a.name.cmp(&b.name).then(a.id.cmp(&b.id)));
        found
    }

    /// The files in folder `id`, by name (then id).
    pub fn files_in(&self, id: u64) -> Vec<&File> {
        let mut found: Vec<&File> = self.files.values().filter(|f| f.parent_id == id).collect();
        found.sort_by(|a, b| a.name.cmp(&b.name).then(a.id.cmp(&b.id)));
        found
    }

    /// The names from the root down to folder `id` (the root's left out), joined by
    /// `/`: `plans/A`; empty for the root.
    pub fn folder_path(&self, id: u64) -> String {
        let mut names = Vec::new();
        let mut at = self.folders.get(&id);
        while let Some(folder) = at {
            match folder.parent_id {
                Some(parent) => {
                    names.push(folder.name.as_str());
                    at = self.folders.get(&parent);
                }
                None => break,
            }
        }
        names.reverse();
        names.join("/")
    }

    /// The path of file `file` from its Documents' root: `plans/A/a1.pdf`.
    pub fn file_path(&self, file: &File) -> String {
        let folder = self.folder_path(file.parent_id);
        if folder.is_empty() {
            file.name.clone()
        } else {
            format!("{folder}/{}", file.name)
        }
    }

    /// A new folder `name` in `parent` (the root when `None`) of `place`.
    pub fn create_folder(
        &mut self,
        ids: &mut u64,
        place: Place,
        parent: Option<u64>,
        name: &str,
        now: &str,
    ) -> Result<u64, DocError> {
        check_name(name)?;
        let parent = self.parent(ids, place, parent, now)?;
        if self
            .folders
            .values()
            .any(|f| f.parent_id == Some(parent) && f.name == name)
        {
            return Err(DocError::FolderNameTaken);
        }
        let id = next(ids);
        self.folders.insert(
            id,
            Folder {
                id,
                place,
                parent_id: Some(parent),
                name: name.into(),
                created_at: now.into(),
            },
        );
        Ok(id)
    }

    /// A new file `name` in `parent` (the root when `None`) of `place`, with
    /// `version` as its first version. A name taken by a file in that folder is
    /// refused, unless `unique_name` (then the first free [`numbered`] name is used)
    /// or `allow_duplicates` (then the name is kept: the sandbox's behaviour before
    /// it kept Documents, for older tests).
    #[allow(clippy::too_many_arguments)]
    pub fn create_file(
        &mut self,
        ids: &mut u64,
        place: Place,
        parent: Option<u64>,
        name: &str,
        unique_name: bool,
        allow_duplicates: bool,
        description: Option<String>,
        version: NewVersion,
        now: &str,
    ) -> Result<u64, DocError> {
        check_name(name)?;
        let parent = self.parent(ids, place, parent, now)?;
        let taken = |docs: &Self, candidate: &str| {
            docs.files
                .values()
                .any(|f| f.parent_id == parent && f.name == candidate)
        };
        let name = if !taken(self, name) || (allow_duplicates && !unique_name) {
            name.to_string()
        } else if unique_name {
            (1..)
                .map(|n| numbered(name, n))
                .find(|candidate| !taken(self, candidate))
                .unwrap_or_else(|| name.to_string())
        } else {
            return Err(DocError::FileNameTaken);
        };
        let id = next(ids);
        let version = Self::version_of(ids, version, 1, now);
        self.files.insert(
            id,
            File {
                id,
                place,
                parent_id: parent,
                name,
                description,
                created_at: now.into(),
                versions: vec![version],
            },
        );
        Ok(id)
    }

    /// A new version of file `file_id` of `place`: its id.
    pub fn add_version(
        &mut self,
        ids: &mut u64,
        place: Place,
        file_id: u64,
        version: NewVersion,
        now: &str,
    ) -> Result<u64, DocError> {
        let file = self
            .files
            .get_mut(&file_id)
            .filter(|f| f.place == place)
            .ok_or(DocError::NoSuchFile(file_id))?;
        let number = file.versions.len() as u32 + 1;
        let version = Self::version_of(ids, version, number, now);
        let id = version.id;
        file.versions.push(version);
        Ok(id)
    }

    fn version_of(ids: &mut u64, new: NewVersion, number: u32, now: &str) -> Version {
        Version {
            id: next(ids),
            number,
            upload_uuid: new.upload_uuid,
            key: new.key,
            size: new.size,
            sha256: new.sha256,
            md5: new.md5,
            notes: new.notes,
            download_name: new.download_name,
            created_at: now.into(),
        }
    }

    /// Every place that has Documents (a root), in order.
    pub fn places(&self) -> Vec<Place> {
        self.roots.keys().copied().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: &str = "2026-01-01T00:00:00Z";
    const PROJECT: Place = Place {
        company_id: 7,
        project_id: Some(42),
    };
    const COMPANY: Place = Place {
        company_id: 7,
        project_id: None,
    };

    fn version(uuid: &str) -> NewVersion {
        NewVersion {
            upload_uuid: uuid.into(),
            key: format!("k/{uuid}"),
            size: 3,
            sha256: "s".into(),
            md5: "m".into(),
            notes: None,
            download_name: None,
        }
    }

    #[test]
    fn numbered_names() {
        let table = [
            ("plan.pdf", 1, "plan (1).pdf"),
            ("plan.pdf", 12, "plan (12).pdf"),
            ("a.tar.gz", 2, "a.tar (2).gz"),
            ("notes", 1, "notes (1)"),
            (".env", 1, ".env (1)"),
            ("Ünïcode plan.PDF", 3, "Ünïcode plan (3).PDF"),
            ("trailing.", 1, "trailing (1)."),
        ];
        for (name, n, expected) in table {
            assert_eq!(numbered(name, n), expected, "{name} {n}");
        }
    }

    #[test]
    fn names_refused() {
        let table = [
            ("", false),
            ("   ", false),
            (".", false),
            ("..", false),
            ("a/b", false),
            ("tab\there", false),
            ("...", true),
            ("plan (1).pdf", true),
            ("Ünïcode ✓", true),
            ("a\\b", true),
        ];
        for (name, ok) in table {
            assert_eq!(check_name(name).is_ok(), ok, "{name:?}");
        }
    }

    #[test]
    fn a_tree_with_paths_and_taken_names() {
        let (mut docs, mut ids) = (Documents::default(), 0);
        let plans = docs
            .create_folder(&mut ids, PROJECT, None, "plans", NOW)
            .unwrap();
        let root = docs.existing_root(PROJECT).unwrap();
        assert_eq!(docs.folder(plans).unwrap().parent_id, Some(root));
        let a = docs
            .create_folder(&mut ids, PROJECT, Some(plans), "A", NOW)
            .unwrap();
        assert_eq!(docs.folder_path(a), "plans/A");
        assert_eq!(docs.folder_path(root), "");
        assert_eq!(
            docs.create_folder(&mut ids, PROJECT, Some(root), "plans", NOW),
            Err(DocError::FolderNameTaken),
            "the root given by id is the root"
        );
        // The same name elsewhere, a file of a folder's name: not taken.
        docs.create_folder(&mut ids, PROJECT, Some(a), "plans", NOW)
            .unwrap();
        docs.create_folder(&mut ids, COMPANY, None, "plans", NOW)
            .unwrap();
        let file = docs
            .create_file(
                &mut ids,
                PROJECT,
                Some(plans),
                "A",
                false,
                false,
                None,
                version("U1"),
                NOW,
            )
            .unwrap();
        assert_eq!(docs.file_path(docs.file(file).unwrap()), "plans/A");
        assert_eq!(
            docs.create_file(
                &mut ids,
                PROJECT,
                Some(plans),
                "A",
                false,
                false,
                None,
                version("U2"),
                NOW
            ),
            Err(DocError::FileNameTaken)
        );
        assert_eq!(
            docs.create_folder(&mut ids, COMPANY, Some(plans), "x", NOW),
            Err(DocError::FolderElsewhere(plans))
        );
        let unknown = ids + 100;
        assert_eq!(
            docs.create_folder(&mut ids, PROJECT, Some(unknown), "x", NOW),
            Err(DocError::NoSuchFolder(unknown))
        );
        assert_eq!(
            docs.subfolders(root)
                .iter()
                .map(|f| f.name.as_str())
                .collect::<Vec<_>>(),
            ["plans"]
        );
        assert_eq!(docs.places(), [COMPANY, PROJECT]);
    }

    #[test]
    fn unique_names_and_duplicates() {
        let (mut docs, mut ids) = (Documents::default(), 0);
        let mut create = |docs: &mut Documents, unique, duplicates| {
            docs.create_file(
                &mut ids,
                PROJECT,
                None,
                "a.pdf",
                unique,
                duplicates,
                None,
                version("U"),
                NOW,
            )
            .map(|id| docs.file(id).unwrap().name.clone())
        };
        assert_eq!(create(&mut docs, false, false).unwrap(), "a.pdf");
        assert_eq!(create(&mut docs, true, false).unwrap(), "a (1).pdf");
        assert_eq!(create(&mut docs, true, false).unwrap(), "a (2).pdf");
        assert_eq!(create(&mut docs, true, true).unwrap(), "a (3).pdf");
        assert_eq!(create(&mut docs, false, true).unwrap(), "a.pdf");
        assert_eq!(
            create(&mut docs, false, false),
            Err(DocError::FileNameTaken)
        );
    }

    #[test]
    fn versions_count_up_and_stay_in_their_place() {
        let (mut docs, mut ids) = (Documents::default(), 0);
        let file = docs
            .create_file(
                &mut ids,
                PROJECT,
                None,
                "a.pdf",
                false,
                false,
                None,
                version("U1"),
                NOW,
            )
            .unwrap();
        let second = docs
            .add_version(&mut ids, PROJECT, file, version("U2"), NOW)
            .unwrap();
        let (owner, found) = docs.version(second).unwrap();
        assert_eq!(
            (owner.id, found.number, found.upload_uuid.as_str()),
            (file, 2, "U2")
        );
        assert_eq!(
            docs.add_version(&mut ids, COMPANY, file, version("U3"), NOW),
            Err(DocError::NoSuchFile(file))
        );
        let numbers: Vec<u32> = docs
            .file(file)
            .unwrap()
            .versions
            .iter()
            .map(|v| v.number)
            .collect();
        assert_eq!(numbers, [1, 2]);
        let all: Vec<u64> = [docs.existing_root(PROJECT).unwrap(), file]
            .into_iter()
            .chain(docs.file(file).unwrap().versions.iter().map(|v| v.id))
            .collect();
        let distinct: std::collections::BTreeSet<u64> = all.iter().copied().collect();
        assert_eq!(all.len(), distinct.len(), "one counter: no id twice");
    }
}
