//! `auth = "access_token"`: an `instance_url` and a session id obtained
//! elsewhere (e.g. `sf org display`). Nothing to call: the first query tells
//! whether the token works. Never refreshed: sfsmoke has no way to get a new one.

use super::Session;
use crate::secret::Secret;
use url::Url;

pub fn session(instance_url: &Url, access_token: &Secret) -> Session {
    Session {
        instance_url: instance_url.clone(),
        access_token: access_token.clone(),
        user_id: None,
        org_id: None,
        warnings: Vec::new(),
    }
}
