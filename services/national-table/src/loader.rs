//! Per-request DataLoaders of the national-table subgraph.

use ggzhub_kit::batch::Batches;
use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::dataloader::{DataLoader, HashMapCache, Loader};
use sea_orm::{
    ColumnTrait, Condition, DatabaseConnection, DbErr, EntityTrait, JoinType, QueryFilter, QueryOrder, QuerySelect,
};

use crate::entity::{escalation, kpi, listing, measure, measurement, network, transition};

/// Errors from loaders.
pub type LoadError = Arc<DbErr>;

/// All loaders of one request.
pub struct Loaders {
    /// Escalations by id.
    pub escalations: DataLoader<Rows<escalation::Entity>>,
    /// Escalations by the continuity signal that opened them.
    pub escalation_by_signal: DataLoader<EscalationBySignal>,
    /// Expertise networks by id.
    pub networks: DataLoader<Rows<network::Entity>>,
    /// KPIs by code.
    pub kpis: DataLoader<Rows<kpi::Entity>>,
    /// Listings by id.
    pub listings: DataLoader<Rows<listing::Entity>>,
    /// Measures per escalation, kept for the request (fed by `region_escalations`).
    pub measures: Arc<DataLoader<Children<measure::Entity>, HashMapCache>>,
    /// Transitions per escalation.
    pub transitions: DataLoader<Children<transition::Entity>>,
    /// Measurements per KPI.
    pub measurements: DataLoader<Children<measurement::Entity>>,
    /// Listings per listed offer id.
    pub listing_by_offer: DataLoader<ListingByOffer>,
    /// Listings serving a region.
    pub coverage: DataLoader<Coverage>,
    /// Escalations per region.
    pub region_escalations: DataLoader<RegionEscalations>,
    /// Every known target group.
    pub target_groups: DataLoader<TargetGroups>,
    /// Escalation counts per region (national picture).
    pub escalation_counts: DataLoader<EscalationCounts>,
}

impl Loaders {
    /// Fresh loaders for one request.
    pub fn new(db: &DatabaseConnection, batches: &Batches) -> Self {
        let measures = Arc::new(batches.cached_loader(Children::new(db)));
        Self {
            escalations: batches.loader(Rows::new(db)),
            escalation_by_signal: batches.loader(EscalationBySignal { db: db.clone() }),
            networks: batches.loader(Rows::new(db)),
            kpis: batches.loader(Rows::new(db)),
            listings: batches.loader(Rows::new(db)),
            region_escalations: batches.loader(RegionEscalations { db: db.clone(), measures: Arc::clone(&measures) }),
            measures,
            transitions: batches.loader(Children::new(db)),
            measurements: batches.loader(Children::new(db)),
            listing_by_offer: batches.loader(ListingByOffer { db: db.clone() }),
            coverage: batches.loader(Coverage { db: db.clone() }),
            target_groups: batches.loader(TargetGroups { db: db.clone() }),
            escalation_counts: batches.loader(EscalationCounts { db: db.clone() }),
        }
    }
}

/// Entities with one string key column.
pub trait Keyed: EntityTrait {
    /// The key column.
    fn key_column() -> Self::Column;
    /// A model's key.
    fn key_of(m: &Self::Model) -> String;
}

/// Entities that belong to a parent by a string column.
pub trait Child: EntityTrait {
    /// The parent column.
    fn parent_column() -> Self::Column;
    /// The ordering column.
    fn order_column() -> Self::Column;
    /// A model's parent key.
    fn parent_of(m: &Self::Model) -> String;
}

macro_rules! keyed {
    ($m:ident, $col:ident, $field:ident) => {
        impl Keyed for $m::Entity {
            fn key_column() -> Self::Column {
                $m::Column::$col
            }
            fn key_of(m: &Self::Model) -> String {
                m.$field.clone()
            }
        }
    };
}
keyed!(escalation, Id, id);
keyed!(network, Id, id);
keyed!(kpi, Code, code);
keyed!(listing, Id, id);

macro_rules! child {
    ($m:ident, $col:ident, $field:ident, $order:ident) => {
        impl Child for $m::Entity {
            fn parent_column() -> Self::Column {
                $m::Column::$col
            }
            fn order_column() -> Self::Column {
                $m::Column::$order
            }
            fn parent_of(m: &Self::Model) -> String {
                m.$field.clone()
            }
        }
    };
}
child!(measure, EscalationId, escalation_id, Id);
child!(transition, EscalationId, escalation_id, Id);
child!(measurement, KpiCode, kpi_code, Year);

/// Loads rows by key.
pub struct Rows<E> {
    db: DatabaseConnection,
    _e: std::marker::PhantomData<fn() -> E>,
}

impl<E> Rows<E> {
    fn new(db: &DatabaseConnection) -> Self {
        Self { db: db.clone(), _e: std::marker::PhantomData }
    }
}

impl<E> Loader<String> for Rows<E>
where
    E: Keyed + Send + Sync + 'static,
    E::Model: Clone + Send + Sync + 'static,
{
    type Value = E::Model;
    type Error = LoadError;

    async fn load(&self, keys: &[String]) -> Result<HashMap<String, Self::Value>, Self::Error> {
        let rows = E::find().filter(E::key_column().is_in(keys.iter().cloned())).all(&self.db).await?;
        Ok(rows.into_iter().map(|m| (E::key_of(&m), m)).collect())
    }
}

/// Loads all children of many parents in one statement.
pub struct Children<E> {
    db: DatabaseConnection,
    _e: std::marker::PhantomData<fn() -> E>,
}

impl<E> Children<E> {
    fn new(db: &DatabaseConnection) -> Self {
        Self { db: db.clone(), _e: std::marker::PhantomData }
    }
}

impl<E> Loader<String> for Children<E>
where
    E: Child + Send + Sync + 'static,
    E::Model: Clone + Send + Sync + 'static,
{
    type Value = Vec<E::Model>;
    type Error = LoadError;

    async fn load(&self, keys: &[String]) -> Result<HashMap<String, Self::Value>, Self::Error> {
        let rows = E::find()
            .filter(E::parent_column().is_in(keys.iter().cloned()))
            .order_by_asc(E::order_column())
            .all(&self.db)
            .await?;
        let mut out: HashMap<String, Vec<E::Model>> = keys.iter().map(|k| (k.clone(), vec![])).collect();
        for r in rows {
            out.entry(E::parent_of(&r)).or_default().push(r);
        }
        Ok(out)
    }
}

/// The escalation a continuity signal opened, if any.
pub struct EscalationBySignal {
    db: DatabaseConnection,
}

impl Loader<String> for EscalationBySignal {
    type Value = escalation::Model;
    type Error = LoadError;

    async fn load(&self, keys: &[String]) -> Result<HashMap<String, Self::Value>, Self::Error> {
        let rows = escalation::Entity::find()
            .filter(escalation::Column::SignalId.is_in(keys.iter().cloned()))
            .all(&self.db)
            .await?;
        Ok(rows.into_iter().filter_map(|m| Some((m.signal_id.clone()?, m))).collect())
    }
}

/// The listing of an offer, if any.
pub struct ListingByOffer {
    db: DatabaseConnection,
}

impl Loader<String> for ListingByOffer {
    type Value = listing::Model;
    type Error = LoadError;

    async fn load(&self, keys: &[String]) -> Result<HashMap<String, Self::Value>, Self::Error> {
        let rows =
            listing::Entity::find().filter(listing::Column::OfferId.is_in(keys.iter().cloned())).all(&self.db).await?;
        Ok(rows.into_iter().map(|m| (m.offer_id.clone(), m)).collect())
    }
}

/// Listings serving each region. The served regions are a JSON list, so one statement loads
/// every listing and the match happens here (the national list holds tens to hundreds of offers).
pub struct Coverage {
    db: DatabaseConnection,
}

impl Loader<String> for Coverage {
    type Value = Vec<listing::Model>;
    type Error = LoadError;

    async fn load(&self, keys: &[String]) -> Result<HashMap<String, Self::Value>, Self::Error> {
        let rows = listing::Entity::find().order_by_asc(listing::Column::Id).all(&self.db).await?;
        Ok(keys
            .iter()
            .map(|code| {
                let needle = serde_json::Value::String(code.clone());
                let serving = rows
                    .iter()
                    .filter(|l| l.regions_served.as_array().is_some_and(|a| a.contains(&needle)))
                    .cloned()
                    .collect();
                (code.clone(), serving)
            })
            .collect())
    }
}

/// Escalations of a region a caller may list: all of them (`full`), or only decided ones.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RegionEscalationsKey {
    /// Region code.
    pub region: String,
    /// Whether undecided escalations are included.
    pub full: bool,
}

/// Escalations for many regions in one statement per visibility, with their measures in the
/// same statement (a left join): the measures are fed to the request's measures loader, so the
/// escalations' `measures` cost no statement of their own.
pub struct RegionEscalations {
    db: DatabaseConnection,
    measures: Arc<DataLoader<Children<measure::Entity>, HashMapCache>>,
}

impl Loader<RegionEscalationsKey> for RegionEscalations {
    type Value = Vec<escalation::Model>;
    type Error = LoadError;

    async fn load(
        &self,
        keys: &[RegionEscalationsKey],
    ) -> Result<HashMap<RegionEscalationsKey, Self::Value>, Self::Error> {
        let mut out: HashMap<RegionEscalationsKey, Vec<escalation::Model>> =
            keys.iter().map(|k| (k.clone(), vec![])).collect();
        for full in [true, false] {
            let regions: Vec<String> = keys.iter().filter(|k| k.full == full).map(|k| k.region.clone()).collect();
            if regions.is_empty() {
                continue;
            }
            let mut cond = Condition::all().add(escalation::Column::RegionCode.is_in(regions));
            if !full {
                cond = cond.add(escalation::Column::Status.is_in(crate::domain::EscalationStatus::DECIDED));
            }
            let with_measures = escalation::Entity::belongs_to(measure::Entity)
                .from(escalation::Column::Id)
                .to(measure::Column::EscalationId)
                .into();
            // Measures in the order of their own loader ([`Children`]: by id).
            let rows = escalation::Entity::find()
                .select_also(measure::Entity)
                .join(JoinType::LeftJoin, with_measures)
                .filter(cond)
                .order_by_desc(escalation::Column::RaisedAt)
                .order_by_asc(escalation::Column::Id)
                .order_by_asc(measure::Column::Id)
                .all(&self.db)
                .await?;
            let mut measures: HashMap<String, Vec<measure::Model>> = HashMap::new();
            for (r, m) in rows {
                let first_row = !measures.contains_key(&r.id);
                measures.entry(r.id.clone()).or_default().extend(m);
                if first_row
                    && let Some(list) = out.get_mut(&RegionEscalationsKey { region: r.region_code.clone(), full })
                {
                    list.push(r);
                }
            }
            self.measures.feed_many(measures).await;
        }
        Ok(out)
    }
}

/// Key of [`TargetGroups`]: there is one answer per request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct AllTargetGroups;

/// The target groups the national table knows: those of expertise networks and listings.
pub struct TargetGroups {
    db: DatabaseConnection,
}

impl Loader<AllTargetGroups> for TargetGroups {
    type Value = std::collections::BTreeSet<String>;
    type Error = LoadError;

    async fn load(&self, _: &[AllTargetGroups]) -> Result<HashMap<AllTargetGroups, Self::Value>, Self::Error> {
        let mut groups: std::collections::BTreeSet<String> =
            network::Entity::find().all(&self.db).await?.into_iter().map(|n| n.target_group).collect();
        groups.extend(listing::Entity::find().all(&self.db).await?.into_iter().map(|l| l.target_group));
        Ok(HashMap::from([(AllTargetGroups, groups)]))
    }
}

/// Escalation counts per region, category and status for every region of one request in one
/// statement (`GROUP BY`): keyed like [`RegionEscalations`], whether undecided escalations count.
pub struct EscalationCounts {
    db: DatabaseConnection,
}

impl Loader<RegionEscalationsKey> for EscalationCounts {
    type Value = Vec<crate::picture::EscalationCountRow>;
    type Error = LoadError;

    async fn load(
        &self,
        keys: &[RegionEscalationsKey],
    ) -> Result<HashMap<RegionEscalationsKey, Self::Value>, Self::Error> {
        let all: Vec<String> = keys.iter().map(|k| k.region.clone()).collect();
        let full: Vec<String> = keys.iter().filter(|k| k.full).map(|k| k.region.clone()).collect();
        let cond = Condition::all().add(escalation::Column::RegionCode.is_in(all)).add(
            Condition::any()
                .add(escalation::Column::RegionCode.is_in(full))
                .add(escalation::Column::Status.is_in(crate::domain::EscalationStatus::DECIDED)),
        );
        let rows = crate::picture::escalation_counts(&self.db, cond).await?;
        let mut out: HashMap<RegionEscalationsKey, Self::Value> = keys.iter().map(|k| (k.clone(), vec![])).collect();
        for r in rows {
            // Each key of the row's region takes it, a key without undecided escalations only
            // when the row counts decided ones.
            for full in [true, false] {
                let key = RegionEscalationsKey { region: r.region_code.clone(), full };
                if let Some(v) = out.get_mut(&key)
                    && (full || crate::access::decided(&r.status))
                {
                    v.push(r.clone());
                }
            }
        }
        Ok(out)
    }
}
