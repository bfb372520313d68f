//! The shipped recipes (`playbooks/resources/`): their descriptions and playbooks, embedded.

use serde::Deserialize;
use shared::resources::Recipe;
use std::sync::OnceLock;

#[derive(Deserialize)]
struct Shipped {
    file: String,
    #[serde(flatten)]
    recipe: Recipe,
}

const RECIPES_JSON: &str = include_str!("../../../../playbooks/resources/recipes.json");

/// The playbook of each recipe, by its `file` in recipes.json.
fn playbook_file(file: &str) -> Option<&'static str> {
    match file {
        "postgresql.yml" => Some(include_str!(
            "../../../../playbooks/resources/postgresql.yml"
        )),
        "mariadb.yml" => Some(include_str!("../../../../playbooks/resources/mariadb.yml")),
        "redis.yml" => Some(include_str!("../../../../playbooks/resources/redis.yml")),
        "sqlite.yml" => Some(include_str!("../../../../playbooks/resources/sqlite.yml")),
        "nfs.yml" => Some(include_str!("../../../../playbooks/resources/nfs.yml")),
        _ => None,
    }
}

fn shipped() -> &'static [(Recipe, &'static str)] {
    static ALL: OnceLock<Vec<(Recipe, &'static str)>> = OnceLock::new();
    ALL.get_or_init(|| {
        let list: Vec<Shipped> =
            serde_json::from_str(RECIPES_JSON).expect("playbooks/resources/recipes.json parses");
        list.into_iter()
            .map(|s| {
                let playbook = playbook_file(&s.file).unwrap_or_else(|| {
                    panic!("recipes.json names {} but it is not embedded", s.file)
                });
                (s.recipe, playbook)
            })
            .collect()
    })
}

pub fn all() -> impl Iterator<Item = &'static Recipe> {
    shipped().iter().map(|(r, _)| r)
}

pub fn find(slug: &str) -> Option<&'static Recipe> {
    all().find(|r| r.slug == slug)
}

pub fn playbook(slug: &str) -> Option<&'static str> {
    shipped()
        .iter()
        .find(|(r, _)| r.slug == slug)
        .map(|(_, p)| *p)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recipe_actions_read_back() {
        for action in super::super::RecipeAction::ALL {
            assert_eq!(
                super::super::RecipeAction::parse(action.as_str()),
                Some(action)
            );
        }
    }

    #[test]
    fn every_recipe_has_its_playbook_and_valid_defaults() {
        assert!(all().count() > 0);
        for recipe in all() {
            assert!(playbook(&recipe.slug).is_some(), "{}", recipe.slug);
            crate::exec::ansible::parse_playbook(playbook(&recipe.slug).unwrap())
                .unwrap_or_else(|e| panic!("{}: {e}", recipe.slug));
            recipe
                .settle(&serde_json::Map::new())
                .unwrap_or_else(|e| panic!("{}: defaults refused: {e:?}", recipe.slug));
        }
    }
}
