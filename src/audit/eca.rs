//! External Client Apps (ECAs), the Connected App's successor: which ones
//! the org has, which of the user's permission sets pre-authorize each, and,
//! when the reader may, their policies. Nothing here decides a cause.
//!
//! Which API reads what:
//! - pre-authorization: SOQL on `SetupEntityAccess` with `SetupEntityType =
//!   'ExternalClientApplication'` (API 60.0+; View Setup and Configuration),
//!   folded into the audit's composite batching ([`SOQL`]);
//! - names: `ExternalClientApplication` is not queryable, so each app found
//!   there is retrieved by REST (`GET .../sobjects/ExternalClientApplication/
//!   {id}?fields=Id,DeveloperName,MasterLabel`);
//! - policies: the Metadata API only (`listMetadata` + `readMetadata` of
//!   [`POLICY_TYPES`]), which needs Modify Metadata or Modify All Data. The
//!   read is tried once, at most [`MAX_METADATA_CALLS`] calls, each counted
//!   ([`EcaRead::metadata_calls`]); a refusal is an [`POLICIES`] gap, and the
//!   pre-authorizations above still stand. A `readMetadata` refused for one
//!   type leaves that type unread and keeps the others.
//! - scopes: `ExtlClntAppOauthSettings` is listed and read on its own and is
//!   optional: beyond Modify Metadata it takes the org setting "Allow Access
//!   to OAuth Consumer Secrets via Metadata API" and the user permission
//!   "View External Client Apps Consumer Secrets in Metadata" (api_meta:
//!   meta_extlclntappoauthsettings), so its refusal is a [`SCOPES`] gap of
//!   its own. `ExtlClntAppGlobalOauthSettings` (the consumer secret) is
//!   never read.
//!
//! What a run pays for ([`Needs`]): the policies are read only when they
//! can matter (a diagnosis of a failure they explain, a recording, or
//! smoke.lock holding policies to compare), and a reader refused once is
//! not asked again in the same run ([`Refusals`]). When the names may come
//! from smoke.lock (a drift check), only an app pre-authorizing the user's
//! sets that smoke.lock does not name is retrieved.

use super::facts::{Gap, Gatherer, ProfileFacts, SetupQuery, UserFacts};
use crate::salesforce::error::{cannot_read_setup, Failure};
use crate::salesforce::metadata::{Record, READ_BATCH};
use crate::salesforce::names::{id15, is_record_id};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::future::Future;
use std::sync::{Arc, Mutex};

/// Which permission sets pre-authorize which ECA (every row: an app whose
/// sets are none of the user's is still an app of this org).
pub const SOQL: &str =
    "SELECT Id, ParentId, SetupEntityId, SetupEntityType FROM SetupEntityAccess \
                        WHERE SetupEntityType = 'ExternalClientApplication'";

/// The oldest API version that knows External Client Apps (their
/// SetupEntityAccess rows, the REST object, the Metadata API types): the
/// audit reads at the org's newest version when the configured one is
/// older.
pub const MIN_VERSION: &str = "60.0";

/// The [`Gap`] object when the pre-authorizations or names could not be read.
pub const OBJECT: &str = "ExternalClientApplication";

/// The [`Gap`] object when the policies could not be read (Metadata API).
pub const POLICIES: &str = "External Client App policies";

/// The [`Gap`] object when the OAuth settings (scopes) could not be read
/// while the policies could: [`SCOPES_COST`] says what that takes.
pub const SCOPES: &str = "External Client App OAuth settings";

/// The OAuth settings type (scopes), read apart from the policies.
pub const OAUTH_SETTINGS: &str = "ExtlClntAppOauthSettings";

/// The OAuth policies and the plugin policies: listed together, in one
/// `listMetadata` (a refusal of one is a refusal of both).
pub const LISTED_TOGETHER: [&str; 2] = [
    "ExtlClntAppOauthConfigurablePolicies",
    "ExtlClntAppConfigurablePolicies",
];

/// [`LISTED_TOGETHER`], then the OAuth settings (scopes; listed on their
/// own); never the global OAuth settings, which hold the consumer secret.
pub const POLICY_TYPES: [&str; 3] = [LISTED_TOGETHER[0], LISTED_TOGETHER[1], OAUTH_SETTINGS];

/// Two `listMetadata` (the policies; the OAuth settings), one
/// `readMetadata` per type, and one of `ExternalClientApplication` for the
/// labels of apps no permission set pre-authorizes: at most this many
/// Metadata API calls per audit (apps past [`READ_BATCH`] per type are left
/// unread, and said so).
pub const MAX_METADATA_CALLS: u32 = 3 + POLICY_TYPES.len() as u32;

/// What reading the OAuth settings takes beyond the policies' permission:
/// the evidence line of a [`SCOPES`] refusal.
pub const SCOPES_COST: &str = "reading ExtlClntAppOauthSettings also takes the org setting \
    \"Allow Access to OAuth Consumer Secrets via Metadata API\" (Setup > External Client App \
    Settings) and the user permission \"View External Client Apps Consumer Secrets in \
    Metadata\" (which also opens consumer secrets to that user; sfsmoke does not require \
    it), so the scopes are unchecked; the other policies were read";

/// `SetupEntityAccess` rows of `ExternalClientApplication` and
/// `ExtlClntAppConfigurablePolicies` exist from this major API version,
/// as do the client credentials fields of the OAuth policies; below it
/// the reading is partial, below [`METADATA_SINCE`] there is none.
pub const ECA_SINCE: u32 = 60;

/// `ExternalClientApplication`, `ExtlClntAppOauthSettings` and
/// `ExtlClntAppOauthConfigurablePolicies` exist from this major version.
pub const METADATA_SINCE: u32 = 59;

/// The major API version a Metadata API type is served from (api_meta).
pub fn since(metadata_type: &str) -> u32 {
    if metadata_type == "ExtlClntAppConfigurablePolicies" {
        ECA_SINCE
    } else {
        METADATA_SINCE
    }
}

/// The gap of a read not sent because the API version predates it.
fn too_old(object: &str, version: &str, what: &str) -> Gap {
    Gap {
        object: object.into(),
        failure: Failure::new(
            crate::salesforce::error::Origin::Sfsmoke,
            crate::codes::VERSION_TOO_OLD,
            format!("not sent at API v{version}: {what}"),
        ),
    }
}

/// At most this many apps are retrieved by name.
const MAX_APPS: usize = 50;

/// What reading the policies costs and what is known without them: the
/// one line a refusal adds to the evidence.
pub const POLICIES_COST: &str = "reading them takes the Metadata API, which needs \"Modify \
    Metadata Through Metadata API Functions\" or \"Modify All Data\" (more than an auditor \
    should hold; sfsmoke does not require it), so the plugin switch, client credentials \
    run-as user and scopes are unchecked; pre-authorization is still read from \
    SetupEntityAccess (View Setup and Configuration)";

/// What this reading needs of the External Client Apps beyond their
/// pre-authorizations. The default reads everything (a recording, a
/// diagnosis).
#[derive(Clone, Debug, Default)]
pub struct Needs {
    /// Skip the Metadata API read of the policies: nothing in this run
    /// needs them.
    pub skip_policies: bool,
    /// The apps smoke.lock names, when the names may come from there:
    /// only an app pre-authorizing the user's sets that is not among them
    /// is retrieved, apps pre-authorizing none of the user's sets are left
    /// out, and no label is read from the Metadata API. `None`: every app
    /// is retrieved.
    pub known: Option<Vec<Known>>,
    /// The run's Metadata API refusals (shared by every org of the run).
    pub refusals: Refusals,
}

/// An app as smoke.lock names it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Known {
    /// Empty in entries written before ids were recorded.
    pub id: String,
    pub api_name: String,
    pub label: String,
}

/// Appended to a refusal not sent again ([`Refusals`]), for the reader;
/// the code reads [`Failure::asked_before`].
pub const ASKED_BEFORE: &str = "refused earlier in this run: not asked again";

/// The Metadata API refusals for lack of permission met in one run, by
/// reader (login URL and user) and what it asked (the types listed: the
/// OAuth settings take a permission the policies do not): a reader
/// refused once is not asked the same again.
/// Readers with the same key wait for each other's answer, so two orgs
/// sharing an auditor send one request between them.
#[derive(Clone, Debug, Default)]
pub struct Refusals(Arc<Mutex<BTreeMap<String, Slot>>>);

/// One reader's refusal, once met; held while its request is out.
type Slot = Arc<tokio::sync::Mutex<Option<Failure>>>;

impl Refusals {
    /// `ask()` unless `reader` was refused before in this run: then that
    /// refusal again (flagged [`Failure::asked_before`], its message
    /// ending in [`ASKED_BEFORE`]), nothing sent.
    pub async fn ask<T, F, Fut>(&self, reader: &str, ask: F) -> Result<T, Failure>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<T, Failure>>,
    {
        let slot = {
            let mut map = self.0.lock().unwrap_or_else(|e| e.into_inner());
            map.entry(reader.to_string()).or_default().clone()
        };
        let mut refused = slot.lock().await;
        if let Some(f) = refused.as_ref() {
            let mut f = f.clone();
            f.message = format!("{}; {ASKED_BEFORE}", f.message.trim_end_matches('.'));
            f.asked_before = true;
            return Err(f);
        }
        let answer = ask().await;
        if let Err(f) = &answer {
            if cannot_read_setup(&f.code) {
                *refused = Some(f.clone());
            }
        }
        answer
    }
}

/// One permission set acting for the user: the profile's own, or one
/// assigned and in force.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ActingSet {
    pub id: String,
    /// `profile 'P'`, `permission set 'S'` or `permission set group 'G'`.
    pub source: String,
    /// `PermissionSet.Name`.
    pub api_name: String,
}

/// One External Client App.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EcaFacts {
    /// Absent when the app is known only from its policies.
    pub id: Option<String>,
    /// `DeveloperName` (the policies' `externalClientApplication`).
    pub api_name: String,
    /// `MasterLabel`; the API name when unknown.
    pub label: String,
    /// Which of the user's sets pre-authorize it (SetupEntityAccess, and
    /// the OAuth policies' lists when read), as `permission set 'S'`.
    pub preauthorized_via: Vec<String>,
    /// Some permission set pre-authorizes it (SetupEntityAccess).
    pub has_preauthorizations: bool,
    /// `None` when the policies were not read.
    pub policies: Option<EcaPolicies>,
}

impl EcaFacts {
    /// `'Warehouse Sync'` (with the API name when it differs).
    pub fn describe(&self) -> String {
        if self.api_name.is_empty() || self.api_name == self.label {
            format!("'{}'", self.label)
        } else {
            format!("'{}' ({})", self.label, self.api_name)
        }
    }
}

/// An ECA's policies as the Metadata API gives them; `None` fields were
/// absent from the answer.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EcaPolicies {
    /// `permittedUsersPolicyType = AdminApprovedPreAuthorized`.
    pub admin_approved: Option<bool>,
    /// `commaSeparatedPermissionSet`: ids per the docs, API names accepted.
    pub permission_sets: Vec<String>,
    /// `commaSeparatedProfile`.
    pub profiles: Vec<String>,
    /// `isClientCredentialsFlowEnabled`.
    pub client_credentials: Option<bool>,
    /// `clientCredentialsFlowUser` (a username or a user Id: compare with
    /// [`names_user`]).
    pub run_as: Option<String>,
    /// `ExtlClntAppConfigurablePolicies.isEnabled` (all plugins).
    pub plugins_enabled: Option<bool>,
    /// `ExtlClntAppConfigurablePolicies.isOauthPluginEnabled`.
    pub oauth_plugin_enabled: Option<bool>,
    /// `ExtlClntAppOauthSettings.commaSeparatedOauthScopes`.
    pub scopes: Option<Vec<String>>,
    /// The fullNames of the components read (`Warehouse_Sync_oauthPlcy`):
    /// the names Setup Audit Trail entries about them use.
    pub components: Vec<String>,
}

impl EcaPolicies {
    /// The OAuth plugin is off (itself, or every plugin).
    pub fn plugin_off(&self) -> bool {
        self.plugins_enabled == Some(false) || self.oauth_plugin_enabled == Some(false)
    }

    /// The scopes are known and grant no REST API access (`api`, or full
    /// access, which includes it).
    pub fn lacks_api_scope(&self) -> bool {
        self.scopes.as_ref().is_some_and(|s| {
            !s.iter().any(|x| {
                let x = x.to_ascii_lowercase();
                x == "api" || x == "full"
            })
        })
    }
}

/// What the ECA reading found.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EcaRead {
    pub apps: Vec<EcaFacts>,
    /// Metadata API calls sent (each charged against the daily allocation).
    pub metadata_calls: u32,
    /// Apps whose policies were past the bound and not read.
    pub unread_policies: Vec<String>,
    /// The API version read at, when it predates part of the reading
    /// ([`ECA_SINCE`]): what was skipped is a gap, none claimed absent.
    pub too_old: Option<String>,
    /// The policies' `listMetadata` went through (so the reader holds
    /// Modify Metadata, whatever a later read answered).
    pub policies_listed: bool,
    /// The `SetupEntityAccess` rows were not read (refused, failed, or the
    /// version predates them): which apps the user's sets pre-authorize is
    /// unknown, not "none" (the [`OBJECT`] gap says why).
    pub rows_unread: bool,
}

/// Read the org's ECAs for the user acting through `sets` (empty when the
/// user is unknown) and `profile`. Failures become gaps in `g`.
pub(super) async fn read<Q: SetupQuery>(
    g: &mut Gatherer<'_, Q>,
    sets: &[ActingSet],
    profile: Option<&ProfileFacts>,
    needs: &Needs,
) -> EcaRead {
    let mut out = EcaRead::default();
    let mut apps: BTreeMap<String, EcaFacts> = BTreeMap::new();
    let version = g.q.api_version();
    let major = version.as_deref().map(|v| super::facts::version_key(v).0);
    let older = |since: u32| major.is_some_and(|m| m < since);
    let v = version.clone().unwrap_or_default();
    if older(ECA_SINCE) {
        out.too_old = version.clone();
    }
    let rows = if older(ECA_SINCE) {
        // The rows do not exist below 60.0: none would read as "no app".
        g.gaps.push(too_old(
            OBJECT,
            &v,
            "SetupEntityAccess rows of External Client Apps exist from 60.0",
        ));
        None
    } else {
        g.run(OBJECT, SOQL.into()).await
    };
    // Per app id, every permission set pre-authorizing it (not only the
    // user's): what tells an unnamed app's policies apart.
    let mut parents: BTreeMap<String, Vec<String>> = BTreeMap::new();
    out.rows_unread = rows.is_none();
    if let Some(rows) = rows {
        parents = parents_of(&rows);
        let (mut ids, via) = preauthorizations(&rows, sets);
        let mut named = Vec::new();
        if let Some(known) = &needs.known {
            // Only the apps serving the user matter to the drift check;
            // smoke.lock names the ones it knows (a rename shows at the
            // next snapshot).
            ids.retain(|id| via.get(id).is_some_and(|v| !v.is_empty()));
            ids.retain(|id| match known.iter().find(|k| same_id(&k.id, id)) {
                Some(k) => {
                    named.push(EcaFacts {
                        id: Some(id.clone()),
                        api_name: k.api_name.clone(),
                        label: k.label.clone(),
                        preauthorized_via: sorted(via.get(id).cloned().unwrap_or_default()),
                        has_preauthorizations: true,
                        policies: None,
                    });
                    false
                }
                None => true,
            });
        }
        named.extend(retrieve(g, &ids, &via).await);
        for app in named {
            apps.insert(app.api_name.clone(), app);
        }
    }
    let read = if needs.skip_policies {
        PolicyRead::default()
    } else {
        read_policies(g, major, &v).await
    };
    out.policies_listed = read.listed;
    out.metadata_calls = read.calls;
    out.unread_policies = read.unread;
    name_by_list(&mut apps, &read.app_ids);
    for (name, p) in read.policies {
        let app = apps.entry(name.clone()).or_insert_with(|| EcaFacts {
            id: None,
            label: name.clone(),
            api_name: name,
            preauthorized_via: Vec::new(),
            has_preauthorizations: false,
            policies: None,
        });
        for src in listed_sets(&p, sets, profile) {
            if !app.preauthorized_via.contains(&src) {
                app.preauthorized_via.push(src);
            }
        }
        app.preauthorized_via.sort();
        app.policies = Some(p);
    }
    merge_unnamed(&mut apps, &parents);
    if let Some(known) = &needs.known {
        // Labels as smoke.lock has them; none read.
        for app in apps.values_mut().filter(|a| a.id.is_none()) {
            if let Some(k) = known.iter().find(|k| k.api_name == app.api_name) {
                app.label = k.label.clone();
            }
        }
    }
    let unlabelled: Vec<String> = apps
        .values()
        .filter(|a| a.id.as_ref().is_none_or(|id| *id == a.label))
        .filter(|_| needs.known.is_none() && !older(METADATA_SINCE))
        .map(|a| a.api_name.clone())
        .take(READ_BATCH)
        .collect();
    if !unlabelled.is_empty() {
        out.metadata_calls += 1;
        // A label is a nicety: without it the API name stands in.
        if let Ok(records) =
            g.q.read_metadata("ExternalClientApplication", &unlabelled)
                .await
        {
            for r in records {
                let (Some(name), Some(label)) = (r.get("fullName"), r.get("label")) else {
                    continue;
                };
                if let Some(app) = apps.get_mut(name) {
                    app.label = label.to_string();
                }
            }
        }
    }
    out.apps = apps.into_values().collect();
    out.apps
        .sort_by(|a, b| (&a.label, &a.api_name).cmp(&(&b.label, &b.api_name)));
    out
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

/// Salesforce ids compare on their case-sensitive 15-character form.
pub fn same_id(a: &str, b: &str) -> bool {
    id15(a).is_some_and(|x| id15(b) == Some(x))
}

/// `clientCredentialsFlowUser` names `user`: by username (any case) or by
/// its Id (15 or 18 characters), as an org may write either.
pub fn names_user(run_as: &str, user: &UserFacts) -> bool {
    let r = run_as.trim();
    r.eq_ignore_ascii_case(&user.username) || same_id(r, &user.id)
}

/// Two run-as values name the same user: equal, the same Id, or one the
/// username and the other the Id of `user`.
pub fn same_run_as(a: &str, b: &str, user: Option<&UserFacts>) -> bool {
    a.trim().eq_ignore_ascii_case(b.trim())
        || same_id(a.trim(), b.trim())
        || user.is_some_and(|u| names_user(a, u) && names_user(b, u))
}

/// The ECA ids in `rows` and, per id, which of `sets` pre-authorize it: at
/// most [`MAX_APPS`] (as many as are retrieved), those pre-authorizing one
/// of `sets` first, each in the form first seen.
///
/// One pass, one hash lookup per row on the 15-character id: the rows come
/// from the server (up to 100k, a hostile one may make them all distinct)
/// and this loop never awaits, so the run's deadline cannot cut it.
fn preauthorizations(
    rows: &[Value],
    sets: &[ActingSet],
) -> (Vec<String>, BTreeMap<String, Vec<String>>) {
    let short = |id: &str| id15(id).map(str::to_string);
    let mut sources: HashMap<String, Vec<&str>> = HashMap::new();
    for s in sets {
        if let Some(k) = short(&s.id) {
            sources.entry(k).or_default().push(&s.source);
        }
    }
    // Apps in first-seen order, and where each is by its 15-character id.
    let mut apps: Vec<(String, Vec<String>)> = Vec::new();
    let mut seen: HashMap<String, usize> = HashMap::new();
    let (mut serving, mut others) = (0usize, 0usize);
    for r in rows {
        let field = |k: &str| r.get(k).and_then(|v| v.as_str());
        if field("SetupEntityType").is_some_and(|t| t != "ExternalClientApplication") {
            continue;
        }
        // The id goes into a retrieve's URL path.
        let Some(entity) = field("SetupEntityId").filter(|e| is_record_id(e)) else {
            continue;
        };
        let via: &[&str] = field("ParentId")
            .and_then(short)
            .and_then(|p| sources.get(&p))
            .map_or(&[], Vec::as_slice);
        let key = &entity[..15];
        let i = match seen.get(key) {
            Some(&i) => i,
            None => {
                let count = if via.is_empty() {
                    &mut others
                } else {
                    &mut serving
                };
                if *count >= MAX_APPS {
                    continue;
                }
                *count += 1;
                seen.insert(key.to_string(), apps.len());
                apps.push((entity.to_string(), Vec::new()));
                apps.len() - 1
            }
        };
        let list = &mut apps[i].1;
        for s in via {
            if !list.iter().any(|x| x == s) {
                list.push(s.to_string());
            }
        }
    }
    if apps.len() > MAX_APPS {
        // Stable: first-seen order within each kind.
        apps.sort_by_key(|(_, via)| via.is_empty());
        apps.truncate(MAX_APPS);
    }
    let ids = apps.iter().map(|(id, _)| id.clone()).collect();
    (ids, apps.into_iter().collect())
}

/// Per app id (as [`preauthorizations`] keys them), every `ParentId`
/// pre-authorizing it.
fn parents_of(rows: &[Value]) -> BTreeMap<String, Vec<String>> {
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for r in rows {
        let field = |k: &str| r.get(k).and_then(|v| v.as_str()).map(str::to_string);
        if field("SetupEntityType").is_some_and(|t| t != "ExternalClientApplication") {
            continue;
        }
        let (Some(entity), Some(parent)) = (field("SetupEntityId"), field("ParentId")) else {
            continue;
        };
        let key = out
            .keys()
            .find(|k| same_id(k, &entity))
            .cloned()
            .unwrap_or(entity);
        out.entry(key).or_default().push(parent);
    }
    out
}

/// The keys of apps still keyed by their id: no name from the retrieve
/// (nor, yet, from a list).
fn unnamed_keys(apps: &BTreeMap<String, EcaFacts>) -> Vec<String> {
    apps.iter()
        .filter(|(key, a)| a.id.as_deref() == Some(key.as_str()))
        .map(|(key, _)| key.clone())
        .collect()
}

/// An app whose retrieve failed is keyed by its id: the
/// `ExternalClientApplication` components `listMetadata` gave (`ids`: id,
/// fullName) name it, so its policies find it.
fn name_by_list(apps: &mut BTreeMap<String, EcaFacts>, ids: &[(String, String)]) {
    for key in unnamed_keys(apps) {
        let Some((_, name)) = ids.iter().find(|(id, _)| same_id(id, &key)) else {
            continue;
        };
        if apps.contains_key(name) {
            continue;
        }
        if let Some(mut app) = apps.remove(&key) {
            app.api_name = name.clone();
            apps.insert(name.clone(), app);
        }
    }
}

/// An app still keyed by its id (no name from the retrieve or the list)
/// is the app of policies known by name alone when exactly one such
/// candidate fits: admin-approved (it pre-authorizes permission sets), and
/// listing one of the sets SetupEntityAccess names for it when both lists
/// are known. Several candidates: both stay, none is guessed.
fn merge_unnamed(apps: &mut BTreeMap<String, EcaFacts>, parents: &BTreeMap<String, Vec<String>>) {
    for key in unnamed_keys(apps) {
        let sets = parents
            .iter()
            .find(|(id, _)| same_id(id, &key))
            .map(|(_, s)| s.as_slice())
            .unwrap_or_default();
        let fits: Vec<String> = apps
            .iter()
            .filter(|(_, a)| a.id.is_none())
            .filter(|(_, a)| {
                a.policies.as_ref().is_some_and(|p| {
                    p.admin_approved != Some(false)
                        && (sets.is_empty()
                            || p.permission_sets.is_empty()
                            || p.permission_sets
                                .iter()
                                .any(|ps| sets.iter().any(|s| same_id(s, ps))))
                })
            })
            .map(|(name, _)| name.clone())
            .collect();
        let [name] = fits.as_slice() else {
            continue;
        };
        let Some(unnamed) = apps.remove(&key) else {
            continue;
        };
        if let Some(app) = apps.get_mut(name) {
            app.id = unnamed.id;
            app.has_preauthorizations = true;
            for src in unnamed.preauthorized_via {
                if !app.preauthorized_via.contains(&src) {
                    app.preauthorized_via.push(src);
                }
            }
            app.preauthorized_via.sort();
        }
    }
}

/// Each app's `DeveloperName` and `MasterLabel` by REST retrieve (at most
/// [`MAX_APPS`]); one that cannot be retrieved keeps its id as its name
/// and leaves an [`OBJECT`] gap.
async fn retrieve<Q: SetupQuery>(
    g: &mut Gatherer<'_, Q>,
    ids: &[String],
    via: &BTreeMap<String, Vec<String>>,
) -> Vec<EcaFacts> {
    let ids = &ids[..ids.len().min(MAX_APPS)];
    let paths: Vec<String> = ids
        .iter()
        .map(|id| {
            format!("sobjects/ExternalClientApplication/{id}?fields=Id,DeveloperName,MasterLabel")
        })
        .collect();
    let answers = g.q.get_many(&paths).await;
    let mut out = Vec::new();
    let mut failed: Option<Failure> = None;
    for (id, answer) in ids.iter().zip(answers) {
        let text = |v: &Value, k: &str| {
            v.get(k)
                .and_then(|x| x.as_str())
                .filter(|s| !s.is_empty())
                .map(str::to_string)
        };
        let (api_name, label) = match &answer {
            Ok(v) => {
                let api = text(v, "DeveloperName").unwrap_or_else(|| id.clone());
                let label = text(v, "MasterLabel").unwrap_or_else(|| api.clone());
                (api, label)
            }
            Err(f) => {
                failed.get_or_insert_with(|| f.clone());
                (id.clone(), id.clone())
            }
        };
        out.push(EcaFacts {
            id: Some(id.clone()),
            api_name,
            label,
            preauthorized_via: sorted(via.get(id).cloned().unwrap_or_default()),
            has_preauthorizations: true,
            policies: None,
        });
    }
    if let Some(failure) = failed {
        g.gaps.push(Gap {
            object: OBJECT.into(),
            failure,
        });
    }
    out
}

/// What [`read_policies`] found.
#[derive(Default)]
struct PolicyRead {
    /// By app API name.
    policies: BTreeMap<String, EcaPolicies>,
    /// Metadata API calls sent.
    calls: u32,
    /// Components left unread past the bound.
    unread: Vec<String>,
    /// The policies' list went through.
    listed: bool,
    /// (id, fullName) of each `ExternalClientApplication` listed.
    app_ids: Vec<(String, String)>,
}

/// The policies by app API name, the Metadata API calls sent, the
/// components left unread past the bound, and whether the policies'
/// list went through; the apps' ids come with the policies' list (one
/// call of up to three types). A refused list is a [`POLICIES`] gap; a refused read
/// leaves its type unread (a gap) and keeps the rest; the OAuth settings
/// are listed and read apart, a refusal there being a [`SCOPES`] gap
/// ([`SCOPES_COST`]). A type the API version `major` predates ([`since`])
/// is not asked for (a [`POLICIES`] gap).
async fn read_policies<Q: SetupQuery>(
    g: &mut Gatherer<'_, Q>,
    major: Option<u32>,
    version: &str,
) -> PolicyRead {
    let served = |t: &str| major.is_none_or(|m| m >= since(t));
    let skipped: Vec<&str> = POLICY_TYPES.into_iter().filter(|t| !served(t)).collect();
    if !skipped.is_empty() {
        g.gaps.push(too_old(
            POLICIES,
            version,
            &format!(
                "the Metadata API serves {} from {}.0",
                skipped.join(", "),
                skipped.iter().map(|t| since(t)).min().unwrap_or(ECA_SINCE)
            ),
        ));
    }
    let mut policy_types: Vec<&str> = LISTED_TOGETHER.into_iter().filter(|t| served(t)).collect();
    if policy_types.is_empty() {
        return PolicyRead::default();
    }
    // The apps' ids, in the same call: they name an app its retrieve
    // could not.
    policy_types.push(OBJECT);
    let mut calls = 1;
    let mut listed = match g.q.list_metadata(&policy_types).await {
        Ok(l) => l,
        Err(failure) => {
            if failure.asked_before {
                calls = 0;
            }
            g.gaps.push(Gap {
                object: POLICIES.into(),
                failure,
            });
            return PolicyRead {
                calls,
                ..PolicyRead::default()
            };
        }
    };
    let app_ids: Vec<(String, String)> = listed
        .iter()
        .filter(|l| l.metadata_type == OBJECT && !l.id.is_empty())
        .map(|l| (l.id.clone(), l.full_name.clone()))
        .collect();
    listed.retain(|l| l.metadata_type != OBJECT);
    // Listed only once the policies were, and named an app: a refusal of
    // those is one of these too, and an org without External Client Apps
    // has no OAuth settings either; neither is worth a second call.
    if listed.is_empty() {
        return PolicyRead {
            calls,
            listed: true,
            app_ids,
            ..PolicyRead::default()
        };
    }
    if served(OAUTH_SETTINGS) {
        calls += 1;
        match g.q.list_metadata(&[OAUTH_SETTINGS]).await {
            Ok(l) => listed.extend(l.into_iter().map(|mut l| {
                if l.metadata_type.is_empty() {
                    l.metadata_type = OAUTH_SETTINGS.into();
                }
                l
            })),
            Err(failure) => {
                if failure.asked_before {
                    calls -= 1;
                }
                g.gaps.push(Gap {
                    object: SCOPES.into(),
                    failure,
                })
            }
        }
    }
    let mut records: Vec<Record> = Vec::new();
    let mut unread = Vec::new();
    for t in POLICY_TYPES.into_iter().filter(|t| served(t)) {
        let mut names: Vec<String> = listed
            .iter()
            .filter(|l| l.metadata_type == t || (l.metadata_type.is_empty() && t != OAUTH_SETTINGS))
            .map(|l| l.full_name.clone())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        if names.is_empty() {
            continue;
        }
        unread.extend(names.split_off(names.len().min(READ_BATCH)));
        calls += 1;
        match g.q.read_metadata(t, &names).await {
            Ok(mut r) => {
                for rec in &mut r {
                    if rec.metadata_type.is_empty() {
                        rec.metadata_type = t.to_string();
                    }
                }
                records.extend(r);
            }
            // What was read stands; this type's fields stay unknown.
            Err(failure) => g.gaps.push(Gap {
                object: if t == OAUTH_SETTINGS {
                    SCOPES
                } else {
                    POLICIES
                }
                .into(),
                failure,
            }),
        }
    }
    PolicyRead {
        policies: fold(&records),
        calls,
        unread,
        listed: true,
        app_ids,
    }
}

/// The records of the three types folded into one [`EcaPolicies`] per app.
pub fn fold(records: &[Record]) -> BTreeMap<String, EcaPolicies> {
    let mut out: BTreeMap<String, EcaPolicies> = BTreeMap::new();
    let list = |s: Option<&str>| -> Vec<String> {
        s.unwrap_or_default()
            .split(',')
            .map(str::trim)
            .filter(|x| !x.is_empty())
            .map(str::to_string)
            .collect()
    };
    for r in records {
        let Some(app) = r.get("externalClientApplication") else {
            continue;
        };
        let p = out.entry(app.to_string()).or_default();
        p.components.extend(r.get("fullName").map(str::to_string));
        match r.metadata_type.as_str() {
            "ExtlClntAppOauthConfigurablePolicies" => {
                p.admin_approved = r
                    .get("permittedUsersPolicyType")
                    .map(|t| t == "AdminApprovedPreAuthorized");
                p.permission_sets = list(r.get("commaSeparatedPermissionSet"));
                p.profiles = list(r.get("commaSeparatedProfile"));
                p.client_credentials = r.flag("isClientCredentialsFlowEnabled");
                p.run_as = r.get("clientCredentialsFlowUser").map(str::to_string);
            }
            "ExtlClntAppConfigurablePolicies" => {
                p.plugins_enabled = r.flag("isEnabled");
                p.oauth_plugin_enabled = r.flag("isOauthPluginEnabled");
            }
            "ExtlClntAppOauthSettings" => {
                // Empty or xsi:nil says nothing about the scopes: unknown,
                // not "no api".
                let scopes = list(r.get("commaSeparatedOauthScopes"));
                p.scopes = (!scopes.is_empty()).then_some(scopes);
            }
            _ => {}
        }
    }
    out
}

/// Which of the user's sets (and profile) the policies' lists name: by id
/// (15 or 18 characters) or API name, as the docs and deployed files do.
fn listed_sets(p: &EcaPolicies, sets: &[ActingSet], profile: Option<&ProfileFacts>) -> Vec<String> {
    if p.admin_approved != Some(true) {
        return Vec::new();
    }
    let mut out = Vec::new();
    for entry in &p.permission_sets {
        for s in sets {
            if same_id(&s.id, entry) || s.api_name.eq_ignore_ascii_case(entry) {
                out.push(s.source.clone());
            }
        }
    }
    if let Some(pr) = profile {
        if p.profiles
            .iter()
            .any(|e| same_id(&pr.id, e) || pr.name.eq_ignore_ascii_case(e))
        {
            out.push(format!("profile '{}'", pr.name));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_three_types_fold_into_one_app() {
        let f = fold(&[
            Record::of(
                "ExtlClntAppOauthConfigurablePolicies",
                &[
                    ("externalClientApplication", "Warehouse_Sync"),
                    ("permittedUsersPolicyType", "AdminApprovedPreAuthorized"),
                    (
                        "commaSeparatedPermissionSet",
                        "0PS000000000001AAA, Warehouse_Access",
                    ),
                    ("isClientCredentialsFlowEnabled", "true"),
                    ("clientCredentialsFlowUser", "int@acme.example"),
                ],
            ),
            Record::of(
                "ExtlClntAppConfigurablePolicies",
                &[
                    ("externalClientApplication", "Warehouse_Sync"),
                    ("isEnabled", "true"),
                    ("isOauthPluginEnabled", "false"),
                ],
            ),
            Record::of(
                "ExtlClntAppOauthSettings",
                &[
                    ("externalClientApplication", "Warehouse_Sync"),
                    ("commaSeparatedOauthScopes", "RefreshToken,OpenID"),
                ],
            ),
        ]);
        let p = &f["Warehouse_Sync"];
        assert_eq!(p.admin_approved, Some(true));
        assert_eq!(
            p.permission_sets,
            ["0PS000000000001AAA", "Warehouse_Access"]
        );
        assert_eq!(p.run_as.as_deref(), Some("int@acme.example"));
        assert!(p.plugin_off());
        assert!(p.lacks_api_scope());
        let mut on = p.clone();
        on.oauth_plugin_enabled = Some(true);
        on.scopes = Some(vec!["Api".into()]);
        assert!(!on.plugin_off() && !on.lacks_api_scope());
        // Scopes not read are not "no api".
        on.scopes = None;
        assert!(!on.lacks_api_scope());
    }

    /// The audit's version choice and the reading's version gates agree.
    #[test]
    fn the_version_the_audit_picks_is_the_one_the_reads_need() {
        assert_eq!(super::super::facts::version_key(MIN_VERSION).0, ECA_SINCE);
        assert!(POLICY_TYPES.iter().all(|t| since(t) <= ECA_SINCE));
        assert_eq!(since("ExtlClntAppConfigurablePolicies"), 60);
        assert_eq!(since(OAUTH_SETTINGS), METADATA_SINCE);
    }

    #[test]
    fn empty_or_nil_scopes_are_unknown_not_missing_api() {
        for body in [
            "<commaSeparatedOauthScopes/>",
            r#"<commaSeparatedOauthScopes xsi:nil="true"/>"#,
            "<commaSeparatedOauthScopes> </commaSeparatedOauthScopes>",
        ] {
            let xml = format!(
                r#"<Envelope xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><readMetadataResponse><result><records xsi:type="ExtlClntAppOauthSettings"><fullName>A_oauth</fullName>{body}<externalClientApplication>A</externalClientApplication></records></result></readMetadataResponse></Envelope>"#
            );
            let records = crate::salesforce::metadata::parse_read(&xml).unwrap();
            let p = &fold(&records)["A"];
            assert_eq!(p.scopes, None, "{body}");
            assert!(!p.lacks_api_scope(), "{body}");
        }
    }

    #[test]
    fn policy_lists_match_the_users_sets_by_id_or_api_name() {
        let sets = [
            ActingSet {
                id: "0PS000000000001AAA".into(),
                source: "permission set 'Warehouse Integration'".into(),
                api_name: "Warehouse_Integration".into(),
            },
            ActingSet {
                id: "0PS000000000002AAA".into(),
                source: "permission set 'Other'".into(),
                api_name: "Other".into(),
            },
        ];
        let mut p = EcaPolicies {
            admin_approved: Some(true),
            permission_sets: vec!["0PS000000000001".into(), "other".into()],
            ..EcaPolicies::default()
        };
        assert_eq!(
            listed_sets(&p, &sets, None),
            [
                "permission set 'Warehouse Integration'",
                "permission set 'Other'"
            ]
        );
        // Self-authorized: the list does not pre-authorize anyone.
        p.admin_approved = Some(false);
        assert!(listed_sets(&p, &sets, None).is_empty());
    }

    #[test]
    fn setup_entity_access_rows_give_apps_and_the_users_sets() {
        let sets = [ActingSet {
            id: "0PS000000000001AAA".into(),
            source: "permission set 'Warehouse Integration'".into(),
            api_name: "Warehouse_Integration".into(),
        }];
        let rows = vec![
            serde_json::json!({"ParentId": "0PS000000000001AAA", "SetupEntityId": "0xR000000000001AAA", "SetupEntityType": "ExternalClientApplication"}),
            serde_json::json!({"ParentId": "0PS000000000009AAA", "SetupEntityId": "0xR000000000002", "SetupEntityType": "ExternalClientApplication"}),
            serde_json::json!({"ParentId": "0PS000000000001AAA", "SetupEntityId": "0H4000000000001", "SetupEntityType": "ConnectedApplication"}),
        ];
        let (ids, via) = preauthorizations(&rows, &sets);
        assert_eq!(ids, ["0xR000000000001AAA", "0xR000000000002"]);
        assert_eq!(
            via["0xR000000000001AAA"],
            ["permission set 'Warehouse Integration'"]
        );
        assert!(via["0xR000000000002"].is_empty());
    }

    #[test]
    fn a_setup_entity_id_that_is_not_a_record_id_is_never_retrieved() {
        // Each would go into `sobjects/ExternalClientApplication/{id}`.
        let hostile = [
            "0xR000000000003/../../../query",
            "0xR000000000003AAA?fields=Id",
            "../sobjects/User/005000000000001",
            "0xR00000000000%2F",
            "0xR 00000000004A",
            "0xR000000000005AAAAAAA",
            "0xR0000000006",
            "",
        ];
        let mut rows: Vec<Value> = hostile
            .iter()
            .map(|id| serde_json::json!({"ParentId": "0PS000000000001AAA", "SetupEntityId": id, "SetupEntityType": "ExternalClientApplication"}))
            .collect();
        rows.push(serde_json::json!({"ParentId": "0PS000000000001AAA", "SetupEntityId": "0xR000000000007", "SetupEntityType": "ExternalClientApplication"}));
        let (ids, via) = preauthorizations(&rows, &[]);
        assert_eq!(ids, ["0xR000000000007"]);
        assert_eq!(via.len(), 1, "{via:?}");
    }

    fn eca_row(parent: &str, app: usize) -> Value {
        serde_json::json!({"ParentId": parent, "SetupEntityId": format!("0xR{app:012}AAA"), "SetupEntityType": "ExternalClientApplication"})
    }

    #[test]
    fn at_most_max_apps_ids_and_those_serving_the_user_first() {
        let sets = [ActingSet {
            id: "0PS000000000001AAA".into(),
            source: "permission set 'Warehouse Integration'".into(),
            api_name: "Warehouse_Integration".into(),
        }];
        // 2000 apps of other sets, then the user's, then the first again
        // (the 15-character form of its id).
        let mut rows: Vec<Value> = (0..2000)
            .map(|i| eca_row("0PS000000000009AAA", i))
            .collect();
        rows.push(eca_row("0PS000000000001", 4242));
        rows.push(serde_json::json!({"ParentId": "0PS000000000001AAA", "SetupEntityId": "0xR000000000000", "SetupEntityType": "ExternalClientApplication"}));
        let (ids, via) = preauthorizations(&rows, &sets);
        assert_eq!(ids.len(), MAX_APPS);
        assert_eq!(ids[0], "0xR000000000000AAA");
        assert_eq!(ids[1], "0xR000000004242AAA");
        assert_eq!(ids[2], "0xR000000000001AAA");
        let user = ["permission set 'Warehouse Integration'"];
        assert_eq!(via["0xR000000004242AAA"], user);
        assert_eq!(via["0xR000000000000AAA"], user);
        assert!(via["0xR000000000001AAA"].is_empty());
        // No app is named twice, and every id kept has its entry.
        let distinct: BTreeSet<_> = ids.iter().map(|i| &i[..15]).collect();
        assert_eq!(distinct.len(), ids.len());
        assert!(ids.iter().all(|i| via.contains_key(i)));
    }
}
