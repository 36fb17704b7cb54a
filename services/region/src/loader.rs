//! Per-request DataLoaders: every entity lookup and nested list is batched, so the number of
//! SQL statements per request does not grow with the number of offers returned.

use ggzhub_kit::batch::Batches;
use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::dataloader::{DataLoader, HashMapCache, Loader};
use sea_orm::sea_query::{Alias, Asterisk, Expr, ExprTrait as _, Query, SelectStatement, UnionType};
use sea_orm::{ColumnTrait, DatabaseConnection, DbErr, EntityTrait, JoinType, QueryFilter, QuerySelect};

use crate::domain::{CareCategory, OfferStatus};
use crate::entity::{care_form, care_offer, organisation, overview, patient_input, region};

/// Errors from loaders (shared between the fields that waited on one batch).
pub type LoadError = Arc<DbErr>;

/// All loaders of one request.
pub struct Loaders {
    /// Regions by code (their coordinating insurers go into `organisations` on the way).
    pub regions: DataLoader<Regions>,
    /// Organisations by id, kept for the request.
    pub organisations: Arc<DataLoader<ById<organisation::Entity>, HashMapCache>>,
    /// Offers by id.
    pub offers: DataLoader<ById<care_offer::Entity>>,
    /// Overviews by id.
    pub overviews: DataLoader<ById<overview::Entity>>,
    /// Care forms by code.
    pub care_forms: DataLoader<ById<care_form::Entity>>,
    /// Pages of offers per region or provider.
    pub offer_pages: DataLoader<OfferPages>,
    /// Overviews by (region, year).
    pub overview_by_year: DataLoader<OverviewByYear>,
    /// Signal counts per region.
    pub signal_counts: DataLoader<SignalCountLoader>,
    /// Patient inputs per overview.
    pub patient_inputs: DataLoader<PatientInputs>,
    /// Categories with available offer per region.
    pub categories: DataLoader<CategoriesPresent>,
    /// Number of offers per region or provider (`totalCount` of offer lists), shared with the
    /// lazy counts of the connections.
    pub offer_counts: Arc<DataLoader<OfferCounts>>,
    /// Aggregates of the national picture, per region.
    pub picture: crate::picture::PictureLoaders,
    /// The Actieplan Wachttijden's loaders (unique counts, transfer leads, hotspots, outlooks).
    pub waiting_plan: crate::waiting_plan::WaitingPlanLoaders,
    /// Care use, flows, IZA overlaps and IZA offer pages (issue 21).
    pub care_use: crate::care_use::loader::CareUseLoaders,
    /// Status notes, closure rules, announced closures and regional actions.
    pub closing: crate::closing::ClosingLoaders,
}

impl Loaders {
    /// Fresh loaders for one request (no cache shared between callers).
    pub fn new(db: &DatabaseConnection, batches: &Batches) -> Self {
        let db = db.clone();
        let organisations = Arc::new(batches.cached_loader(ById::new(&db)));
        Self {
            regions: batches.loader(Regions { db: db.clone(), organisations: Arc::clone(&organisations) }),
            organisations,
            offers: batches.loader(ById::new(&db)),
            overviews: batches.loader(ById::new(&db)),
            care_forms: batches.loader(ById::new(&db)),
            offer_pages: batches.loader(OfferPages { db: db.clone() }),
            overview_by_year: batches.loader(OverviewByYear { db: db.clone() }),
            signal_counts: batches.loader(SignalCountLoader { db: db.clone() }),
            patient_inputs: batches.loader(PatientInputs { db: db.clone() }),
            offer_counts: Arc::new(batches.loader(OfferCounts { db: db.clone() })),
            picture: crate::picture::PictureLoaders::new(&db, batches),
            waiting_plan: crate::waiting_plan::WaitingPlanLoaders::new(&db, batches),
            care_use: crate::care_use::loader::CareUseLoaders::new(&db, batches),
            closing: crate::closing::ClosingLoaders::new(&db, batches),
            categories: batches.loader(CategoriesPresent { db }),
        }
    }
}

/// Loads rows of `E` by their single string primary key.
pub struct ById<E> {
    db: DatabaseConnection,
    _entity: std::marker::PhantomData<fn() -> E>,
}

impl<E> ById<E> {
    fn new(db: &DatabaseConnection) -> Self {
        Self { db: db.clone(), _entity: std::marker::PhantomData }
    }
}

/// Entities whose primary key is one string column.
pub trait StringKeyed: EntityTrait {
    /// The key column.
    fn key_column() -> Self::Column;
    /// The key of a model.
    fn key_of(m: &Self::Model) -> String;
}

macro_rules! string_keyed {
    ($m:ident, $col:ident, $field:ident) => {
        impl StringKeyed for $m::Entity {
            fn key_column() -> Self::Column {
                $m::Column::$col
            }
            fn key_of(m: &Self::Model) -> String {
                m.$field.clone()
            }
        }
    };
}
string_keyed!(organisation, Id, id);
string_keyed!(care_offer, Id, id);
string_keyed!(overview, Id, id);
string_keyed!(care_form, Code, code);

impl<E> Loader<String> for ById<E>
where
    E: StringKeyed + Send + Sync + 'static,
    E::Model: Clone + Send + Sync + 'static,
{
    type Value = Arc<E::Model>;
    type Error = LoadError;

    async fn load(&self, keys: &[String]) -> Result<HashMap<String, Self::Value>, Self::Error> {
        let rows = E::find().filter(E::key_column().is_in(keys.iter().cloned())).all(&self.db).await?;
        Ok(rows.into_iter().map(|m| (E::key_of(&m), Arc::new(m))).collect())
    }
}

/// Regions by code, each with its coordinating insurer in the same statement (a left join): the
/// insurers are fed to the request's organisations loader, so a region's `coordinatingInsurer`
/// costs no statement of its own.
pub struct Regions {
    db: DatabaseConnection,
    organisations: Arc<DataLoader<ById<organisation::Entity>, HashMapCache>>,
}

impl Loader<String> for Regions {
    type Value = Arc<region::Model>;
    type Error = LoadError;

    async fn load(&self, keys: &[String]) -> Result<HashMap<String, Self::Value>, Self::Error> {
        let insurer = region::Entity::belongs_to(organisation::Entity)
            .from(region::Column::CoordinatingInsurerId)
            .to(organisation::Column::Id)
            .into();
        let rows = region::Entity::find()
            .select_also(organisation::Entity)
            .join(JoinType::LeftJoin, insurer)
            .filter(region::Column::Code.is_in(keys.iter().cloned()))
            .all(&self.db)
            .await?;
        let mut out = HashMap::with_capacity(rows.len());
        let mut insurers = Vec::new();
        for (region, insurer) in rows {
            insurers.extend(insurer.map(|o| (o.id.clone(), Arc::new(o))));
            out.insert(region.code.clone(), Arc::new(region));
        }
        self.organisations.feed_many(insurers).await;
        Ok(out)
    }
}

/// Whose offers a page lists.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum OfferOwner {
    /// Offers located in a region.
    Region(String),
    /// Offers of a provider.
    Provider(String),
}

impl OfferOwner {
    /// The region code or provider id.
    pub fn code(&self) -> &str {
        match self {
            Self::Region(c) | Self::Provider(c) => c,
        }
    }
}

/// One page of offers: owner, filters and paging.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct OfferPageKey {
    /// Whose offers.
    pub owner: OfferOwner,
    /// Whether the owner is an IZA region: its page also lists the offers located in the
    /// care-office regions it overlaps (issue 21; only IZA regions have overlaps, and a region's
    /// kind never changes).
    pub overlapping: bool,
    /// Only this category.
    pub category: Option<CareCategory>,
    /// Only this status.
    pub status: Option<OfferStatus>,
    /// Rows to fetch (page size + 1).
    pub limit: u64,
    /// Offers with ids after this one.
    pub after: Option<String>,
}

/// Loads many pages of offers in one statement (SQLite and PostgreSQL; up to
/// [`PAGES_PER_STATEMENT`] pages): each page is a branch that takes the first `limit` offers by
/// id (`ORDER BY id LIMIT n` in a subquery), and the branches are joined with `UNION ALL`. A
/// regional overview asks a page per category of one region (six aliased `offers(category:,
/// first:)` connections): one statement of six branches, each the start of one range of
/// `offers_region_category_idx` (a region's page of every category reads `offers_region_idx`,
/// a provider's `offers_provider_idx`). (Until issue 18's seventh round
/// this was one `ROW_NUMBER() OVER (PARTITION BY owner, category)` over every offer of the
/// owners: 3.5 ms of PostgreSQL per overview, most of it sorting the region's 1,200 offers.)
pub struct OfferPages {
    db: DatabaseConnection,
}

/// The column saying which page (the key's position in the batch) a row belongs to.
const PAGE_COLUMN: &str = "page_no";

/// The first `key.limit` offers of one page, by id.
fn page_branch(key: &OfferPageKey) -> SelectStatement {
    let offers = || Alias::new("care_offers");
    let filtered = |q: &mut SelectStatement| {
        if let Some(c) = key.category {
            q.and_where(Expr::col((offers(), Alias::new("category"))).eq(c.as_str()));
        }
        if let Some(s) = key.status {
            q.and_where(Expr::col((offers(), Alias::new("status"))).eq(s.as_str()));
        }
        if let Some(a) = &key.after {
            q.and_where(Expr::col((offers(), Alias::new("id"))).gt(a.clone()));
        }
    };
    let mut own = Query::select();
    own.columns(offer_columns()).from(offers());
    match &key.owner {
        OfferOwner::Region(code) => own.and_where(Expr::col((offers(), Alias::new("region_code"))).eq(code.clone())),
        OfferOwner::Provider(id) => own.and_where(Expr::col((offers(), Alias::new("provider_id"))).eq(id.clone())),
    };
    filtered(&mut own);
    let limit = key.limit;
    if !key.overlapping {
        own.order_by((offers(), Alias::new("id")), sea_orm::Order::Asc).limit(limit);
        return own;
    }
    // An IZA region: the offers located in it (seldom any) and those in the care-office regions
    // it overlaps, sorted together.
    let overlaps = || Alias::new("region_overlaps");
    let mut via = Query::select();
    via.columns(offer_columns())
        .from(offers())
        .inner_join(
            overlaps(),
            Expr::col((overlaps(), Alias::new("care_office_code"))).equals((offers(), Alias::new("region_code"))),
        )
        .and_where(Expr::col((overlaps(), Alias::new("iza_code"))).eq(key.owner.code().to_owned()));
    filtered(&mut via);
    own.union(UnionType::All, via);
    // Built in place: `.to_owned()` at the end of a chain would copy the whole statement.
    let mut located = Query::select();
    located.column(Asterisk).from_subquery(own, Alias::new("located")).order_by("id", sea_orm::Order::Asc).limit(limit);
    located
}

/// A care offer's columns in the order of [`care_offer::Model`]'s fields (what
/// [`decode_offer`] reads by position).
fn offer_columns() -> impl Iterator<Item = (care_offer::Entity, care_offer::Column)> {
    use sea_orm::Iterable as _;
    care_offer::Column::iter().map(|c| (care_offer::Entity, c))
}

/// A care offer from a row whose first columns are [`offer_columns`]. On PostgreSQL by position
/// and without sqlx's per-value type check (issue 18: a regional overview decodes 186 rows of 24
/// columns, and finding each column by name, checking its type against every compatible type
/// and going through sea-orm's layers cost about 900 instructions per value — 9 % of a hub
/// request). The columns are the entity's own, so their types are the ones its fields decode;
/// `a_page_loads_the_relations_it_asks_for_and_answers_as_single_offers_do` compares every
/// field with the offer read the usual way. Elsewhere (SQLite) through sea-orm.
fn decode_offer(raw: &sea_orm::QueryResult) -> Result<care_offer::Model, DbErr> {
    use sea_orm::FromQueryResult as _;
    let Some(row) = raw.try_as_pg_row() else { return care_offer::Model::from_query_result(raw, "") };
    use sea_orm::sqlx::Row as _;
    debug_assert!(
        {
            use sea_orm::sqlx::Column as _;
            use sea_orm::{IdenStatic as _, Iterable as _};
            care_offer::Column::iter().zip(row.columns()).all(|(field, column)| field.as_str() == column.name())
        },
        "an offer row's columns are the entity's, in its order"
    );
    let mut at = 0usize;
    let mut next = || {
        at += 1;
        at - 1
    };
    let decode = |e: sea_orm::sqlx::Error| DbErr::Custom(format!("care offer row: {e}"));
    macro_rules! next {
        () => {
            row.try_get_unchecked(next()).map_err(decode)?
        };
    }
    // In the order of the fields (a struct literal evaluates its fields in the order written).
    Ok(care_offer::Model {
        id: next!(),
        provider_id: next!(),
        region_code: next!(),
        category: next!(),
        care_form: next!(),
        unit_name: next!(),
        location: next!(),
        beds: next!(),
        places: next!(),
        teams: next!(),
        fte: next!(),
        availability: next!(),
        status: next!(),
        supra_regional: next!(),
        regions_served: next!(),
        inclusion_criteria: next!(),
        intake_pause_from: next!(),
        intake_pause_until: next!(),
        intake_pause_reason: next!(),
        version: next!(),
        created_at: next!(),
        updated_at: next!(),
        created_by: next!(),
        updated_by: next!(),
    })
}

/// The page a row of [`OfferPages::load_pages`] belongs to: the column after the offer's. On
/// PostgreSQL by position, as [`decode_offer`] reads the offer (finding it by name cost as
/// much as decoding a third of the offer).
fn page_of(raw: &sea_orm::QueryResult) -> Result<i64, DbErr> {
    let Some(row) = raw.try_as_pg_row() else { return raw.try_get::<i64>("", PAGE_COLUMN) };
    use sea_orm::sqlx::Row as _;
    let at = offer_columns().count();
    // Checked in every build: a wrong column read as the page would put rows on another page.
    use sea_orm::sqlx::Column as _;
    if row.columns().get(at).is_none_or(|c| c.name() != PAGE_COLUMN) {
        return Err(DbErr::Custom(format!("offer page row: column {at} is not {PAGE_COLUMN}")));
    }
    row.try_get_unchecked::<i64, _>(at).map_err(|e| DbErr::Custom(format!("offer page row: {e}")))
}

impl Loader<OfferPageKey> for OfferPages {
    type Value = Vec<Arc<care_offer::Model>>;
    type Error = LoadError;

    async fn load(&self, keys: &[OfferPageKey]) -> Result<HashMap<OfferPageKey, Self::Value>, Self::Error> {
        let mut out: HashMap<OfferPageKey, Self::Value> = keys.iter().map(|k| (k.clone(), Vec::new())).collect();
        for batch in keys.chunks(PAGES_PER_STATEMENT) {
            self.load_pages(batch, &mut out).await?;
        }
        Ok(out)
    }
}

/// Pages in one statement at most: SQLite refuses a compound `SELECT` of more than 500 terms,
/// and a query may ask for more pages than that (a hundred organisations with six category
/// pages each). A regional overview has six.
const PAGES_PER_STATEMENT: usize = 200;

impl OfferPages {
    /// Loads `keys` (at most [`PAGES_PER_STATEMENT`]) in one statement into `out`.
    async fn load_pages(
        &self,
        keys: &[OfferPageKey],
        out: &mut HashMap<OfferPageKey, Vec<Arc<care_offer::Model>>>,
    ) -> Result<(), LoadError> {
        let mut pages: Option<SelectStatement> = None;
        for (n, key) in keys.iter().enumerate() {
            let mut page = Query::select();
            page.column(Asterisk)
                .expr_as(Expr::val(n as i64), PAGE_COLUMN)
                .from_subquery(page_branch(key), Alias::new(format!("page{n}")));
            match &mut pages {
                None => pages = Some(page),
                Some(all) => {
                    all.union(UnionType::All, page);
                }
            }
        }
        let Some(pages) = pages else { return Ok(()) };
        // In id order, so that each page's rows are too (the order of a UNION ALL's rows is not
        // promised).
        let mut all = Query::select();
        all.column(Asterisk).from_subquery(pages, Alias::new("paged")).order_by("id", sea_orm::Order::Asc);
        let stmt = self.db.get_database_backend().build(&all);
        let rows = sea_orm::ConnectionTrait::query_all_raw(&self.db, stmt).await?;
        for raw in rows {
            let page = page_of(&raw)?;
            let key = usize::try_from(page).ok().and_then(|n| keys.get(n)).ok_or_else(|| {
                Arc::new(DbErr::Custom(format!("offer page {page} answered for a batch of {} pages", keys.len())))
            })?;
            let row = decode_offer(&raw)?;
            if let Some(v) = out.get_mut(key) {
                v.push(Arc::new(row));
            }
        }
        Ok(())
    }
}

/// The column of [`crate::care_use::loader::offers_by_owner`] naming the region an offer is
/// listed under.
const OWNER_COLUMN: &str = "owner_code";

/// Which offers a count covers: owner and filters of an offer list.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct OfferCountKey {
    /// Whose offers.
    pub owner: OfferOwner,
    /// Only this category.
    pub category: Option<CareCategory>,
    /// Only this status.
    pub status: Option<OfferStatus>,
}

/// Counts offers for many owners (and categories) with one `COUNT(*) … GROUP BY owner[,
/// category]` per kind of owner and status: the six category pages of a region count in one
/// statement.
pub struct OfferCounts {
    db: DatabaseConnection,
}

impl Loader<OfferCountKey> for OfferCounts {
    type Value = u64;
    type Error = LoadError;

    async fn load(&self, keys: &[OfferCountKey]) -> Result<HashMap<OfferCountKey, Self::Value>, Self::Error> {
        #[derive(Debug, sea_orm::FromQueryResult)]
        struct Row {
            owner: String,
            category: String,
            n: i64,
        }
        // Kind of owner, whether by category, status.
        type Group = (bool, bool, Option<OfferStatus>);
        let mut groups: HashMap<Group, (Vec<String>, Vec<&'static str>)> = HashMap::new();
        for k in keys {
            let by_region = matches!(k.owner, OfferOwner::Region(_));
            let (owners, categories) = groups.entry((by_region, k.category.is_some(), k.status)).or_default();
            owners.push(k.owner.code().to_owned());
            categories.extend(k.category.map(|c| c.as_str()));
        }
        let mut out: HashMap<OfferCountKey, u64> = keys.iter().map(|k| (k.clone(), 0)).collect();
        for ((by_region, by_category, status), (mut owners, mut categories)) in groups {
            owners.sort_unstable();
            owners.dedup();
            categories.sort_unstable();
            categories.dedup();
            if by_region {
                // Counted as the pages list them: under the region they are located in and under
                // every IZA region asked for that overlaps it.
                let mut q = Query::select();
                q.expr_as(Expr::col(OWNER_COLUMN), "owner")
                    .from_subquery(crate::care_use::loader::offers_by_owner(&owners), Alias::new("owned"))
                    .group_by_col(OWNER_COLUMN);
                if by_category {
                    q.column("category").and_where(Expr::col("category").is_in(categories)).group_by_col("category");
                } else {
                    q.expr_as(Expr::val(""), "category");
                }
                q.expr_as(Expr::col(Asterisk).count(), "n");
                if let Some(s) = status {
                    q.and_where(Expr::col("status").eq(s.as_str()));
                }
                let stmt = self.db.get_database_backend().build(&q);
                for r in <Row as sea_orm::FromQueryResult>::find_by_statement(stmt).all(&self.db).await? {
                    let category = if by_category { CareCategory::parse(&r.category) } else { None };
                    let key = OfferCountKey { owner: OfferOwner::Region(r.owner), category, status };
                    if let Some(n) = out.get_mut(&key) {
                        *n = u64::try_from(r.n).unwrap_or(0);
                    }
                }
                continue;
            }
            let column = care_offer::Column::ProviderId;
            let mut q = care_offer::Entity::find().select_only().column_as(column, "owner");
            q = if by_category {
                q.column_as(care_offer::Column::Category, "category")
                    .filter(care_offer::Column::Category.is_in(categories))
                    .group_by(care_offer::Column::Category)
            } else {
                // Not grouped by category: a constant keeps the row shape.
                q.column_as(Expr::val(""), "category")
            };
            q = q.column_as(Expr::col(Asterisk).count(), "n").filter(column.is_in(owners)).group_by(column);
            if let Some(s) = status {
                q = q.filter(care_offer::Column::Status.eq(s.as_str()));
            }
            for r in q.into_model::<Row>().all(&self.db).await? {
                let owner = OfferOwner::Provider(r.owner);
                let category = if by_category { CareCategory::parse(&r.category) } else { None };
                let key = OfferCountKey { owner, category, status };
                // Combinations no key asked for (several owners and categories) are dropped.
                if let Some(n) = out.get_mut(&key) {
                    *n = u64::try_from(r.n).unwrap_or(0);
                }
            }
        }
        Ok(out)
    }
}

/// Overviews by (region code, year).
pub struct OverviewByYear {
    db: DatabaseConnection,
}

impl Loader<(String, i32)> for OverviewByYear {
    type Value = Arc<overview::Model>;
    type Error = LoadError;

    async fn load(&self, keys: &[(String, i32)]) -> Result<HashMap<(String, i32), Self::Value>, Self::Error> {
        let regions: Vec<String> = keys.iter().map(|(r, _)| r.clone()).collect();
        let years: Vec<i32> = keys.iter().map(|(_, y)| *y).collect();
        let rows = overview::Entity::find()
            .filter(overview::Column::RegionCode.is_in(regions))
            .filter(overview::Column::Year.is_in(years))
            .all(&self.db)
            .await?;
        Ok(rows.into_iter().map(|m| ((m.region_code.clone(), m.year), Arc::new(m))).collect())
    }
}

/// Counts of signals per status in one region.
#[derive(Debug, Clone, Default)]
pub struct SignalCounts {
    /// Open.
    pub open: i64,
    /// Acknowledged.
    pub acknowledged: i64,
    /// Escalated.
    pub escalated: i64,
    /// Resolved.
    pub resolved: i64,
    /// Open past their acknowledgement deadline.
    pub overdue: i64,
}

/// Signal counts for many regions in one statement (`GROUP BY region_code`).
pub struct SignalCountLoader {
    db: DatabaseConnection,
}

impl Loader<String> for SignalCountLoader {
    type Value = SignalCounts;
    type Error = LoadError;

    async fn load(&self, keys: &[String]) -> Result<HashMap<String, Self::Value>, Self::Error> {
        let mut out = crate::picture::signal_counts(&self.db, Some(keys)).await?;
        for k in keys {
            out.entry(k.clone()).or_default();
        }
        Ok(out)
    }
}

/// Patient inputs per overview.
pub struct PatientInputs {
    db: DatabaseConnection,
}

impl Loader<String> for PatientInputs {
    type Value = Vec<patient_input::Model>;
    type Error = LoadError;

    async fn load(&self, keys: &[String]) -> Result<HashMap<String, Self::Value>, Self::Error> {
        let rows = patient_input::Entity::find()
            .filter(patient_input::Column::OverviewId.is_in(keys.iter().cloned()))
            .all(&self.db)
            .await?;
        let mut out: HashMap<String, Vec<patient_input::Model>> = keys.iter().map(|k| (k.clone(), vec![])).collect();
        for r in rows {
            out.entry(r.overview_id.clone()).or_default().push(r);
        }
        Ok(out)
    }
}

/// Categories for which a region has offer that is not closed: located in the region, or a
/// supra-regional offer elsewhere that serves it; for an IZA region, in or serving the region
/// itself or any care-office region it overlaps (the union). Three statements for any number of
/// regions (their overlaps, the local offers, the supra-regional offers).
pub struct CategoriesPresent {
    db: DatabaseConnection,
}

impl Loader<String> for CategoriesPresent {
    type Value = std::collections::BTreeSet<CareCategory>;
    type Error = LoadError;

    async fn load(&self, keys: &[String]) -> Result<HashMap<String, Self::Value>, Self::Error> {
        #[derive(Debug, sea_orm::FromQueryResult)]
        struct Local {
            region_code: String,
            category: String,
        }
        #[derive(Debug, sea_orm::FromQueryResult)]
        struct Served {
            category: String,
            regions_served: serde_json::Value,
        }
        let overlaps = crate::care_use::loader::overlapped(&self.db, keys.iter().cloned()).await?;
        // Each key with the regions that answer for it: itself and, for an IZA region, the
        // care-office regions it overlaps.
        let answering: Vec<(&String, Vec<String>)> =
            keys.iter().map(|k| (k, crate::care_use::loader::answering(&overlaps, k))).collect();
        let all: std::collections::BTreeSet<String> =
            answering.iter().flat_map(|(_, codes)| codes.iter().cloned()).collect();
        let open = care_offer::Column::Status.ne(OfferStatus::Closed.as_str());
        let local = care_offer::Entity::find()
            .select_only()
            .column(care_offer::Column::RegionCode)
            .column(care_offer::Column::Category)
            .distinct()
            .filter(care_offer::Column::RegionCode.is_in(all))
            .filter(open.clone())
            .into_model::<Local>()
            .all(&self.db)
            .await?;
        let served = care_offer::Entity::find()
            .select_only()
            .column(care_offer::Column::Category)
            .column(care_offer::Column::RegionsServed)
            .filter(care_offer::Column::SupraRegional.eq(true))
            .filter(open)
            .into_model::<Served>()
            .all(&self.db)
            .await?;
        // Categories present per region code, then per key over the regions answering for it.
        let mut present: HashMap<&str, Self::Value> = HashMap::new();
        for row in &local {
            if let Some(c) = CareCategory::parse(&row.category) {
                present.entry(row.region_code.as_str()).or_default().insert(c);
            }
        }
        for row in &served {
            let Some(c) = CareCategory::parse(&row.category) else { continue };
            for code in row.regions_served.as_array().into_iter().flatten().filter_map(|v| v.as_str()) {
                present.entry(code).or_default().insert(c);
            }
        }
        Ok(answering
            .into_iter()
            .map(|(k, codes)| {
                let set = codes.iter().filter_map(|c| present.get(c.as_str())).flatten().copied().collect();
                (k.clone(), set)
            })
            .collect())
    }
}
