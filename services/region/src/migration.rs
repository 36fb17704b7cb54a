//! Schema migrations of the region subgraph; they run unchanged on SQLite and PostgreSQL
//! (foreign keys are declared inside `CREATE TABLE`, which is all SQLite supports).

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use ggzhub_kit::migration::{fk, index, with_meta};

/// The region subgraph's migrator (own bookkeeping table, so services may share a database).
pub struct Migrator;

impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(ggzhub_kit::audit::CreateAuditLog),
            Box::new(CreateRegionTables),
            Box::new(AddRegionMapTiles),
            Box::new(CreateHistory),
            Box::new(CreateRegister),
            Box::new(AddWaitingMonthIndex),
            Box::new(AddSignalEvents),
            Box::new(CreateWebhooks),
            Box::new(ggzhub_kit::changes::CreateChangeLog),
            Box::new(AddRegionalFormsAndPlannedOffers),
            Box::new(WaitingPlan),
            Box::new(CreateCareUse),
            Box::new(CreateClosingProcess),
            Box::new(AddCareFormLifecycle),
            Box::new(CreateCareUseImports),
            Box::new(AddOfferCategoryIndex),
        ]
    }

    fn migration_table_name() -> sea_orm::DynIden {
        "region_migrations".into()
    }
}

/// The first schema: regions, organisations, code lists, offers, waiting times, signals,
/// overviews and patient input.
struct CreateRegionTables;

impl MigrationName for CreateRegionTables {
    fn name(&self) -> &str {
        "m0001_create_region_tables"
    }
}

// The trait's signature elides SchemaManager's lifetime; matching it needs the same elision.
#[allow(elided_lifetimes_in_paths)]
#[async_trait::async_trait]
impl MigrationTrait for CreateRegionTables {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            with_meta(
                Table::create()
                    .table("organisations")
                    .col(string_len("id", 36).primary_key())
                    .col(string_len("name", 200))
                    .col(string_len("kind", 32))
                    .col(string_len_null("kvk", 8))
                    .col(string_len_null("ura", 8))
                    .col(string_len_null("agb", 8))
                    .col(string_len_null("uzovi", 4))
                    .col(json("regions")),
            )
            .to_owned(),
        )
        .await?;
        m.create_table(
            with_meta(
                Table::create()
                    .table("regions")
                    .col(string_len("code", 40).primary_key())
                    .col(string_len("name", 200))
                    .col(string_len("kind", 32))
                    .col(json("neighbours"))
                    .col(string_len_null("coordinating_insurer_id", 36))
                    .foreign_key(&mut fk(
                        "regions_insurer_fk",
                        "regions",
                        "coordinating_insurer_id",
                        "organisations",
                        "id",
                    )),
            )
            .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table("care_forms")
                .col(string_len("code", 64).primary_key())
                .col(string_len("category", 32))
                .col(string_len("name", 200))
                .col(string_len("description", 1000))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table("diagnosis_groups")
                .col(string_len("code", 64).primary_key())
                .col(string_len("name", 200))
                .to_owned(),
        )
        .await?;
        m.create_table(
            with_meta(
                Table::create()
                    .table("care_offers")
                    .col(string_len("id", 36).primary_key())
                    .col(string_len("provider_id", 36))
                    .col(string_len("region_code", 40))
                    .col(string_len("category", 32))
                    .col(string_len("care_form", 64))
                    .col(string_len("unit_name", 200))
                    .col(string_len("location", 200))
                    .col(integer_null("beds"))
                    .col(integer_null("places"))
                    .col(integer_null("teams"))
                    .col(double_null("fte"))
                    .col(string_len("availability", 32))
                    .col(string_len("status", 32))
                    .col(boolean("supra_regional"))
                    .col(json("regions_served"))
                    .col(text_null("inclusion_criteria"))
                    .col(date_null("intake_pause_from"))
                    .col(date_null("intake_pause_until"))
                    .col(string_len_null("intake_pause_reason", 500))
                    .foreign_key(&mut fk("offers_provider_fk", "care_offers", "provider_id", "organisations", "id"))
                    .foreign_key(&mut fk("offers_region_fk", "care_offers", "region_code", "regions", "code"))
                    .foreign_key(&mut fk("offers_form_fk", "care_offers", "care_form", "care_forms", "code")),
            )
            .to_owned(),
        )
        .await?;
        index(m, "offers_region_idx", "care_offers", &["region_code", "id"], false).await?;
        index(m, "offers_provider_idx", "care_offers", &["provider_id", "id"], false).await?;
        m.create_table(
            with_meta(
                Table::create()
                    .table("waiting_time_reports")
                    .col(string_len("id", 36).primary_key())
                    .col(string_len("provider_id", 36))
                    .col(string_len("region_code", 40))
                    .col(string_len("location", 200))
                    .col(string_len("diagnosis_group", 64))
                    .col(string_len("month", 7))
                    .col(double("registration_weeks"))
                    .col(double("treatment_weeks"))
                    .col(integer("waiting_count"))
                    .foreign_key(&mut fk(
                        "wait_provider_fk",
                        "waiting_time_reports",
                        "provider_id",
                        "organisations",
                        "id",
                    ))
                    .foreign_key(&mut fk("wait_region_fk", "waiting_time_reports", "region_code", "regions", "code"))
                    .foreign_key(&mut fk(
                        "wait_group_fk",
                        "waiting_time_reports",
                        "diagnosis_group",
                        "diagnosis_groups",
                        "code",
                    )),
            )
            .to_owned(),
        )
        .await?;
        index(m, "wait_key_uq", "waiting_time_reports", &["provider_id", "location", "diagnosis_group", "month"], true)
            .await?;
        index(m, "wait_region_idx", "waiting_time_reports", &["region_code", "id"], false).await?;
        m.create_table(
            with_meta(
                Table::create()
                    .table("continuity_signals")
                    .col(string_len("id", 36).primary_key())
                    .col(string_len("offer_id", 36))
                    .col(string_len("provider_id", 36))
                    .col(string_len("region_code", 40))
                    .col(string_len("kind", 32))
                    .col(string_len("severity", 32))
                    .col(string_len("description", 2000))
                    .col(date_null("expected_date"))
                    .col(string_len("status", 32))
                    .col(timestamp_with_time_zone("raised_at"))
                    .col(timestamp_with_time_zone("acknowledgement_deadline"))
                    .col(timestamp_with_time_zone_null("acknowledged_at"))
                    .col(string_len_null("acknowledged_by", 36))
                    .foreign_key(&mut fk("signal_offer_fk", "continuity_signals", "offer_id", "care_offers", "id")),
            )
            .to_owned(),
        )
        .await?;
        index(m, "signal_region_idx", "continuity_signals", &["region_code", "id"], false).await?;
        m.create_table(
            with_meta(
                Table::create()
                    .table("regional_overviews")
                    .col(string_len("id", 36).primary_key())
                    .col(string_len("region_code", 40))
                    .col(integer("year"))
                    .col(string_len("status", 32))
                    .col(text("public_summary"))
                    .col(text("confidential_notes"))
                    .col(json("assessments"))
                    .col(timestamp_with_time_zone_null("published_at"))
                    .foreign_key(&mut fk("overview_region_fk", "regional_overviews", "region_code", "regions", "code")),
            )
            .to_owned(),
        )
        .await?;
        index(m, "overview_region_year_uq", "regional_overviews", &["region_code", "year"], true).await?;
        m.create_table(
            with_meta(
                Table::create()
                    .table("patient_inputs")
                    .col(string_len("id", 36).primary_key())
                    .col(string_len("overview_id", 36))
                    .col(string_len("organisation_id", 36))
                    .col(text("text"))
                    .foreign_key(&mut fk(
                        "input_overview_fk",
                        "patient_inputs",
                        "overview_id",
                        "regional_overviews",
                        "id",
                    ))
                    .foreign_key(&mut fk("input_org_fk", "patient_inputs", "organisation_id", "organisations", "id")),
            )
            .to_owned(),
        )
        .await?;
        index(m, "input_overview_idx", "patient_inputs", &["overview_id", "id"], false).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in [
            "patient_inputs",
            "regional_overviews",
            "continuity_signals",
            "waiting_time_reports",
            "care_offers",
            "diagnosis_groups",
            "care_forms",
            "regions",
            "organisations",
        ] {
            m.drop_table(Table::drop().table(t).to_owned()).await?;
        }
        Ok(())
    }
}

/// Each region's tile on a schematic map of the Netherlands: a row and a column, one tile per
/// region and kind of region (a unique index; NULLs, for regions without a tile, never clash).
struct AddRegionMapTiles;

impl MigrationName for AddRegionMapTiles {
    fn name(&self) -> &str {
        "m0002_region_map_tiles"
    }
}

#[allow(elided_lifetimes_in_paths)]
#[async_trait::async_trait]
impl MigrationTrait for AddRegionMapTiles {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // One alteration per statement: SQLite's builder allows no more.
        for column in ["map_row", "map_column"] {
            m.alter_table(Table::alter().table("regions").add_column(integer_null(column)).to_owned()).await?;
        }
        index(m, "regions_map_tile", "regions", &["kind", "map_row", "map_column"], true).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_index(Index::drop().name("regions_map_tile").table("regions").to_owned()).await?;
        for column in ["map_column", "map_row"] {
            m.alter_table(Table::alter().table("regions").drop_column(column).to_owned()).await?;
        }
        Ok(())
    }
}

/// Dated history for the national picture's trends (see [`crate::history`]): offer states,
/// waiting-time report versions and signal events, filled from the current records so that
/// an existing database starts with one history row per record.
struct CreateHistory;

impl MigrationName for CreateHistory {
    fn name(&self) -> &str {
        "m0003_history"
    }
}

#[allow(elided_lifetimes_in_paths)]
#[async_trait::async_trait]
impl MigrationTrait for CreateHistory {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("care_offer_history")
                .col(pk_auto("id"))
                .col(string_len("offer_id", 36))
                .col(string_len("provider_id", 36))
                .col(string_len("region_code", 40))
                .col(string_len("category", 32))
                .col(string_len("status", 32))
                .col(integer_null("beds"))
                .col(integer_null("places"))
                .col(integer_null("teams"))
                .col(double_null("fte"))
                .col(date_null("intake_pause_from"))
                .col(date_null("intake_pause_until"))
                .col(string_len("valid_from", 10))
                .col(string_len_null("valid_to", 10))
                .col(timestamp_with_time_zone("recorded_at"))
                .foreign_key(&mut fk("offer_history_offer_fk", "care_offer_history", "offer_id", "care_offers", "id"))
                .to_owned(),
        )
        .await?;
        index(m, "offer_history_offer_idx", "care_offer_history", &["offer_id", "valid_to"], false).await?;
        index(m, "offer_history_valid_idx", "care_offer_history", &["valid_from", "valid_to"], false).await?;
        m.create_table(
            Table::create()
                .table("waiting_time_history")
                .col(pk_auto("id"))
                .col(string_len("report_id", 36))
                .col(string_len("provider_id", 36))
                .col(string_len("region_code", 40))
                .col(string_len("diagnosis_group", 64))
                .col(string_len("month", 7))
                .col(double("registration_weeks"))
                .col(double("treatment_weeks"))
                .col(integer("waiting_count"))
                .col(integer("version"))
                .col(timestamp_with_time_zone("recorded_at"))
                .col(timestamp_with_time_zone_null("superseded_at"))
                .foreign_key(&mut fk(
                    "wait_history_report_fk",
                    "waiting_time_history",
                    "report_id",
                    "waiting_time_reports",
                    "id",
                ))
                .to_owned(),
        )
        .await?;
        index(m, "wait_history_report_idx", "waiting_time_history", &["report_id", "superseded_at"], false).await?;
        m.create_table(
            Table::create()
                .table("continuity_signal_history")
                .col(pk_auto("id"))
                .col(string_len("signal_id", 36))
                .col(string_len("offer_id", 36))
                .col(string_len("region_code", 40))
                .col(string_len("event", 32))
                .col(string_len("status", 32))
                .col(timestamp_with_time_zone("at"))
                .col(timestamp_with_time_zone_null("overdue_at"))
                .col(string_len("by_org", 36))
                .foreign_key(&mut fk(
                    "signal_history_signal_fk",
                    "continuity_signal_history",
                    "signal_id",
                    "continuity_signals",
                    "id",
                ))
                .to_owned(),
        )
        .await?;
        index(m, "signal_history_signal_idx", "continuity_signal_history", &["signal_id", "at"], false).await?;
        index(m, "signal_history_region_idx", "continuity_signal_history", &["region_code", "at"], false).await?;
        // Existing records start their history on the day they were created (SUBSTR of the
        // timestamp's text is its date on both databases).
        let db = m.get_connection();
        db.execute_unprepared(
            "INSERT INTO care_offer_history (offer_id, provider_id, region_code, category, status, beds, places, \
             teams, fte, intake_pause_from, intake_pause_until, valid_from, valid_to, recorded_at) \
             SELECT id, provider_id, region_code, category, status, beds, places, teams, fte, intake_pause_from, \
             intake_pause_until, SUBSTR(CAST(created_at AS TEXT), 1, 10), NULL, updated_at FROM care_offers",
        )
        .await?;
        db.execute_unprepared(
            "INSERT INTO waiting_time_history (report_id, provider_id, region_code, diagnosis_group, month, \
             registration_weeks, treatment_weeks, waiting_count, version, recorded_at, superseded_at) \
             SELECT id, provider_id, region_code, diagnosis_group, month, registration_weeks, treatment_weeks, \
             waiting_count, version, updated_at, NULL FROM waiting_time_reports",
        )
        .await?;
        db.execute_unprepared(
            "INSERT INTO continuity_signal_history (signal_id, offer_id, region_code, event, status, at, overdue_at, by_org) \
             SELECT id, offer_id, region_code, 'RAISED', 'OPEN', raised_at, acknowledgement_deadline, created_by \
             FROM continuity_signals",
        )
        .await?;
        db.execute_unprepared(
            "INSERT INTO continuity_signal_history (signal_id, offer_id, region_code, event, status, at, overdue_at, by_org) \
             SELECT id, offer_id, region_code, status, status, updated_at, NULL, updated_by \
             FROM continuity_signals WHERE status <> 'OPEN'",
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in ["continuity_signal_history", "waiting_time_history", "care_offer_history"] {
            m.drop_table(Table::drop().table(t).to_owned()).await?;
        }
        Ok(())
    }
}

/// The register (see [`crate::register`]): organisations' external identifiers, the identity
/// providers bound to them and the regional tables they sit at. Existing organisations keep their
/// profile identifiers (`kvk`, `ura`, `agb`, `uzovi`) as register identifiers and their regions as
/// `MEMBER` seats; bindings and chairs are the operator's to add.
struct CreateRegister;

impl MigrationName for CreateRegister {
    fn name(&self) -> &str {
        "m0004_register"
    }
}

#[allow(elided_lifetimes_in_paths)]
#[async_trait::async_trait]
impl MigrationTrait for CreateRegister {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("organisation_identifiers")
                .col(string_len("id", 36).primary_key())
                .col(string_len("organisation_id", 36))
                .col(string_len("scheme", 8))
                .col(string_len("value", 20))
                .col(timestamp_with_time_zone("created_at"))
                .col(string_len("created_by", 36))
                .foreign_key(&mut fk(
                    "identifier_org_fk",
                    "organisation_identifiers",
                    "organisation_id",
                    "organisations",
                    "id",
                ))
                .to_owned(),
        )
        .await?;
        index(m, "identifier_value_uq", "organisation_identifiers", &["scheme", "value"], true).await?;
        index(m, "identifier_org_idx", "organisation_identifiers", &["organisation_id"], false).await?;
        m.create_table(
            Table::create()
                .table("identity_provider_bindings")
                .col(string_len("id", 36).primary_key())
                .col(string_len("organisation_id", 36))
                .col(string_len("issuer", 500))
                .col(string_len("scheme", 8))
                .col(timestamp_with_time_zone("created_at"))
                .col(string_len("created_by", 36))
                .foreign_key(&mut fk(
                    "binding_org_fk",
                    "identity_provider_bindings",
                    "organisation_id",
                    "organisations",
                    "id",
                ))
                .to_owned(),
        )
        .await?;
        index(m, "binding_uq", "identity_provider_bindings", &["organisation_id", "issuer", "scheme"], true).await?;
        index(m, "binding_issuer_idx", "identity_provider_bindings", &["issuer"], false).await?;
        m.create_table(
            Table::create()
                .table("table_memberships")
                .col(string_len("id", 36).primary_key())
                .col(string_len("organisation_id", 36))
                .col(string_len("region_code", 40))
                .col(string_len("role", 16))
                .col(timestamp_with_time_zone("updated_at"))
                .col(string_len("updated_by", 36))
                .foreign_key(&mut fk(
                    "membership_org_fk",
                    "table_memberships",
                    "organisation_id",
                    "organisations",
                    "id",
                ))
                .foreign_key(&mut fk("membership_region_fk", "table_memberships", "region_code", "regions", "code"))
                .to_owned(),
        )
        .await?;
        index(m, "membership_uq", "table_memberships", &["organisation_id", "region_code"], true).await?;
        index(m, "membership_region_idx", "table_memberships", &["region_code"], false).await?;
        // What organisations already hold moves into the register.
        use sea_orm::EntityTrait as _;
        let conn = m.get_connection();
        let by = uuid::Uuid::nil().to_string();
        // A value two organisations share stays with the first (the operator sorts it out).
        let mut seen = std::collections::HashSet::new();
        for org in crate::entity::organisation::Entity::find().all(conn).await? {
            for (scheme, value) in crate::register::profile_identifiers(&org) {
                if !seen.insert((scheme, value.clone())) {
                    continue;
                }
                crate::register::insert_identifier(conn, &org.id, scheme, &value, &by).await?;
            }
            let regions: Vec<String> = serde_json::from_value(org.regions.clone()).unwrap_or_default();
            for region in regions {
                crate::register::insert_membership(conn, &org.id, &region, crate::register::TableRole::Member, &by)
                    .await?;
            }
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in ["table_memberships", "identity_provider_bindings", "organisation_identifiers"] {
            m.drop_table(Table::drop().table(t).to_owned()).await?;
        }
        Ok(())
    }
}

/// Waiting-time reports by month: the national picture's figures for the latest month find its
/// reports (and the latest month itself) without reading every month's.
struct AddWaitingMonthIndex;

impl MigrationName for AddWaitingMonthIndex {
    fn name(&self) -> &str {
        "m0005_waiting_month_index"
    }
}

#[allow(elided_lifetimes_in_paths)]
#[async_trait::async_trait]
impl MigrationTrait for AddWaitingMonthIndex {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        index(m, "wait_month_idx", "waiting_time_reports", &["month", "region_code"], false).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_index(Index::drop().name("wait_month_idx").table("waiting_time_reports").to_owned()).await
    }
}

/// Events (issue 19): the outbox table the relay publishes from ([`ggzhub_kit::outbox`]), the
/// insurer's response to a continuity signal, and when a signal's overdue event was recorded
/// (`overdue_emitted_at`: set once, in the transaction that records the event, so the event is
/// emitted exactly once — see [`crate::events::sweep_overdue`]). Signals already past their
/// deadline when this runs are left unmarked: nobody was told of them yet, so the first sweep
/// tells.
struct AddSignalEvents;

impl MigrationName for AddSignalEvents {
    fn name(&self) -> &str {
        "m0006_signal_events"
    }
}

#[allow(elided_lifetimes_in_paths)]
#[async_trait::async_trait]
impl MigrationTrait for AddSignalEvents {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        ggzhub_kit::outbox::create_table(m).await?;
        // One alteration per statement: SQLite's builder allows no more.
        m.alter_table(Table::alter().table("continuity_signals").add_column(text_null("response")).to_owned()).await?;
        m.alter_table(
            Table::alter()
                .table("continuity_signals")
                .add_column(timestamp_with_time_zone_null("overdue_emitted_at"))
                .to_owned(),
        )
        .await?;
        index(m, "signals_deadline_idx", "continuity_signals", &["status", "acknowledgement_deadline"], false).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_index(Index::drop().name("signals_deadline_idx").table("continuity_signals").to_owned()).await?;
        for column in ["overdue_emitted_at", "response"] {
            m.alter_table(Table::alter().table("continuity_signals").drop_column(column).to_owned()).await?;
        }
        m.drop_table(Table::drop().table("outbox").to_owned()).await
    }
}

/// Webhooks (issue 19, [`crate::webhook`]): registrations with their delivery state (lease,
/// position, failures).
struct CreateWebhooks;

impl MigrationName for CreateWebhooks {
    fn name(&self) -> &str {
        "m0007_webhooks"
    }
}

#[allow(elided_lifetimes_in_paths)]
#[async_trait::async_trait]
impl MigrationTrait for CreateWebhooks {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("webhooks")
                .col(string("id").primary_key())
                .col(string("organisation_id"))
                .col(string("registered_by"))
                .col(text("scopes"))
                .col(text("url"))
                .col(string_null("description"))
                .col(text("query"))
                .col(string_null("operation_name"))
                .col(json("variables"))
                .col(string("secret"))
                .col(string("status"))
                .col(text_null("disabled_reason"))
                .col(integer("failures"))
                .col(text_null("last_error"))
                .col(timestamp_with_time_zone_null("last_attempt_at"))
                .col(timestamp_with_time_zone_null("last_delivered_at"))
                .col(big_integer_null("cursor"))
                .col(string_null("lease_holder"))
                .col(timestamp_with_time_zone_null("lease_until"))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone("updated_at"))
                .foreign_key(&mut fk("webhooks_org_fk", "webhooks", "organisation_id", "organisations", "id"))
                .to_owned(),
        )
        .await?;
        index(m, "webhooks_org_idx", "webhooks", &["organisation_id"], false).await?;
        index(m, "webhooks_status_idx", "webhooks", &["status", "lease_until"], false).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table("webhooks").to_owned()).await
    }
}

/// Issue 21 items 4 and 5: a region's own care forms (`care_forms.region_code`, `motivation`),
/// planned offers, and patient input kept internal.
struct AddRegionalFormsAndPlannedOffers;

impl MigrationName for AddRegionalFormsAndPlannedOffers {
    fn name(&self) -> &str {
        "m2026_12_06_forms"
    }
}

#[allow(elided_lifetimes_in_paths)]
#[async_trait::async_trait]
impl MigrationTrait for AddRegionalFormsAndPlannedOffers {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // One alteration per statement: SQLite's builder allows no more. SQLite cannot add a
        // foreign key to an existing table; the mutation checks the region exists.
        m.alter_table(Table::alter().table("care_forms").add_column(string_len_null("region_code", 40)).to_owned())
            .await?;
        m.alter_table(Table::alter().table("care_forms").add_column(text_null("motivation")).to_owned()).await?;
        index(m, "care_forms_region_idx", "care_forms", &["region_code", "code"], false).await?;
        m.alter_table(Table::alter().table("patient_inputs").add_column(boolean("internal").default(false)).to_owned())
            .await?;
        // Input given before it could be marked internal was given for the table only: it stays
        // internal on upgrade, and its author publishes it with `updatePatientInput`.
        m.get_connection().execute_unprepared("UPDATE patient_inputs SET internal = TRUE").await?;
        m.create_table(
            with_meta(
                Table::create()
                    .table("planned_offers")
                    .col(string_len("id", 36).primary_key())
                    .col(string_len("region_code", 40))
                    .col(string_len("category", 32))
                    .col(string_len("care_form", 64))
                    .col(string_len("unit_name", 200))
                    .col(string_len_null("location", 200))
                    .col(string_len_null("intended_provider_id", 36))
                    .col(string_len_null("overview_id", 36))
                    .col(text("motivation"))
                    .col(string_len("status", 32))
                    .col(string_len_null("realised_offer_id", 36))
                    .col(text_null("withdrawal_reason"))
                    .foreign_key(&mut fk("planned_region_fk", "planned_offers", "region_code", "regions", "code"))
                    .foreign_key(&mut fk("planned_form_fk", "planned_offers", "care_form", "care_forms", "code"))
                    .foreign_key(&mut fk(
                        "planned_provider_fk",
                        "planned_offers",
                        "intended_provider_id",
                        "organisations",
                        "id",
                    ))
                    .foreign_key(&mut fk(
                        "planned_overview_fk",
                        "planned_offers",
                        "overview_id",
                        "regional_overviews",
                        "id",
                    ))
                    .foreign_key(&mut fk(
                        "planned_offer_fk",
                        "planned_offers",
                        "realised_offer_id",
                        "care_offers",
                        "id",
                    )),
            )
            .to_owned(),
        )
        .await?;
        index(m, "planned_region_idx", "planned_offers", &["region_code", "id"], false).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table("planned_offers").to_owned()).await?;
        m.alter_table(Table::alter().table("patient_inputs").drop_column("internal").to_owned()).await?;
        m.drop_index(Index::drop().name("care_forms_region_idx").table("care_forms").to_owned()).await?;
        for column in ["motivation", "region_code"] {
            m.alter_table(Table::alter().table("care_forms").drop_column(column).to_owned()).await?;
        }
        Ok(())
    }
}

/// Waiting times as the Actieplan Wachttijden asks (issue 21 item 2): monthly intakes and
/// treatment starts on the reports (nullable: partners that do not send them break nothing), a
/// supplied unique count of people waiting per region and month, the confirmed transfer lead per
/// region, and per offer whether an intake is possible now.
struct WaitingPlan;

impl MigrationName for WaitingPlan {
    fn name(&self) -> &str {
        "m2026_12_06_waiting_plan"
    }
}

#[allow(elided_lifetimes_in_paths)]
#[async_trait::async_trait]
impl MigrationTrait for WaitingPlan {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // One alteration per statement: SQLite's builder allows no more.
        for column in ["intakes", "treatment_starts"] {
            m.alter_table(Table::alter().table("waiting_time_reports").add_column(integer_null(column)).to_owned())
                .await?;
        }
        m.create_table(
            with_meta(
                Table::create()
                    .table("region_waiting_counts")
                    .col(string_len("id", 36).primary_key())
                    .col(string_len("region_code", 40))
                    .col(string_len("month", 7))
                    .col(integer("people_waiting"))
                    .col(string_len("supplier_id", 36))
                    .foreign_key(&mut fk(
                        "region_waiting_region_fk",
                        "region_waiting_counts",
                        "region_code",
                        "regions",
                        "code",
                    ))
                    .foreign_key(&mut fk(
                        "region_waiting_supplier_fk",
                        "region_waiting_counts",
                        "supplier_id",
                        "organisations",
                        "id",
                    )),
            )
            .to_owned(),
        )
        .await?;
        index(m, "region_waiting_uq", "region_waiting_counts", &["region_code", "month"], true).await?;
        m.create_table(
            with_meta(
                Table::create()
                    .table("transfer_leads")
                    .col(string_len("region_code", 40).primary_key())
                    .col(string_len("provider_id", 36))
                    .col(timestamp_with_time_zone("confirmed_at"))
                    .col(string_len("confirmed_by", 36))
                    .foreign_key(&mut fk("transfer_lead_region_fk", "transfer_leads", "region_code", "regions", "code"))
                    .foreign_key(&mut fk(
                        "transfer_lead_provider_fk",
                        "transfer_leads",
                        "provider_id",
                        "organisations",
                        "id",
                    )),
            )
            .to_owned(),
        )
        .await?;
        m.create_table(
            with_meta(
                Table::create()
                    .table("offer_intake_outlooks")
                    .col(string_len("offer_id", 36).primary_key())
                    .col(boolean("intake_possible_now"))
                    .col(double_null("expected_wait_weeks"))
                    .foreign_key(&mut fk(
                        "intake_outlook_offer_fk",
                        "offer_intake_outlooks",
                        "offer_id",
                        "care_offers",
                        "id",
                    )),
            )
            .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in ["offer_intake_outlooks", "transfer_leads", "region_waiting_counts"] {
            m.drop_table(Table::drop().table(t).to_owned()).await?;
        }
        for column in ["treatment_starts", "intakes"] {
            m.alter_table(Table::alter().table("waiting_time_reports").drop_column(column).to_owned()).await?;
        }
        Ok(())
    }
}

/// Issue 21 items 1 and 6: demand and care-use figures per care-office region, category and
/// quarter as a trusted source supplied them (`care_use_figures`), people treated outside their
/// own region (`care_use_flows`, home region → region of treatment), and which care-office
/// regions each IZA region overlaps (`region_overlaps`). See [`crate::care_use`].
struct CreateCareUse;

impl MigrationName for CreateCareUse {
    fn name(&self) -> &str {
        "m2026_12_06_care_use"
    }
}

#[allow(elided_lifetimes_in_paths)]
#[async_trait::async_trait]
impl MigrationTrait for CreateCareUse {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("care_use_figures")
                .col(string_len("id", 36).primary_key())
                .col(string_len("supplier_id", 36))
                .col(string_len("period", 7))
                .col(string_len("region_code", 40))
                .col(string_len("category", 32))
                .col(integer("people_in_care"))
                .col(integer("new_referrals"))
                .col(timestamp_with_time_zone("imported_at"))
                .col(string_len("imported_by", 36))
                .foreign_key(&mut fk("care_use_supplier_fk", "care_use_figures", "supplier_id", "organisations", "id"))
                .foreign_key(&mut fk("care_use_region_fk", "care_use_figures", "region_code", "regions", "code"))
                .to_owned(),
        )
        .await?;
        index(m, "care_use_key_uq", "care_use_figures", &["supplier_id", "period", "region_code", "category"], true)
            .await?;
        index(m, "care_use_period_idx", "care_use_figures", &["period", "region_code"], false).await?;
        m.create_table(
            Table::create()
                .table("care_use_flows")
                .col(string_len("id", 36).primary_key())
                .col(string_len("supplier_id", 36))
                .col(string_len("period", 7))
                .col(string_len("from_region", 40))
                .col(string_len("to_region", 40))
                .col(string_len("category", 32))
                .col(integer("people_in_care"))
                .col(integer("new_referrals"))
                .col(timestamp_with_time_zone("imported_at"))
                .col(string_len("imported_by", 36))
                .foreign_key(&mut fk("care_flow_supplier_fk", "care_use_flows", "supplier_id", "organisations", "id"))
                .foreign_key(&mut fk("care_flow_from_fk", "care_use_flows", "from_region", "regions", "code"))
                .foreign_key(&mut fk("care_flow_to_fk", "care_use_flows", "to_region", "regions", "code"))
                .to_owned(),
        )
        .await?;
        index(
            m,
            "care_flow_key_uq",
            "care_use_flows",
            &["supplier_id", "period", "from_region", "to_region", "category"],
            true,
        )
        .await?;
        index(m, "care_flow_from_idx", "care_use_flows", &["period", "from_region"], false).await?;
        index(m, "care_flow_to_idx", "care_use_flows", &["period", "to_region"], false).await?;
        m.create_table(
            Table::create()
                .table("region_overlaps")
                .col(string_len("id", 36).primary_key())
                .col(string_len("iza_code", 40))
                .col(string_len("care_office_code", 40))
                .col(timestamp_with_time_zone("created_at"))
                .col(string_len("created_by", 36))
                .foreign_key(&mut fk("overlap_iza_fk", "region_overlaps", "iza_code", "regions", "code"))
                .foreign_key(&mut fk("overlap_office_fk", "region_overlaps", "care_office_code", "regions", "code"))
                .to_owned(),
        )
        .await?;
        index(m, "overlap_pair_uq", "region_overlaps", &["iza_code", "care_office_code"], true).await?;
        index(m, "overlap_office_idx", "region_overlaps", &["care_office_code"], false).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in ["region_overlaps", "care_use_flows", "care_use_figures"] {
            m.drop_table(Table::drop().table(t).to_owned()).await?;
        }
        Ok(())
    }
}

/// Issue 21 item 3: causes of offers' status, announced closures, regions' closure rules and
/// regional actions.
struct CreateClosingProcess;

impl MigrationName for CreateClosingProcess {
    fn name(&self) -> &str {
        "m2026_12_06_closing_process"
    }
}

#[allow(elided_lifetimes_in_paths)]
#[async_trait::async_trait]
impl MigrationTrait for CreateClosingProcess {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("care_offer_status_notes")
                .col(string_len("offer_id", 36).primary_key())
                .col(string_len("region_code", 40))
                .col(string_len("status", 32))
                .col(string_len_null("cause_kind", 32))
                .col(text_null("cause_text"))
                .col(date_null("planned_closing_date"))
                .col(timestamp_with_time_zone_null("announced_at"))
                .col(string_len_null("closure_signal_id", 36))
                .col(timestamp_with_time_zone("recorded_at"))
                .col(string_len("recorded_by", 36))
                .foreign_key(&mut fk(
                    "status_notes_offer_fk",
                    "care_offer_status_notes",
                    "offer_id",
                    "care_offers",
                    "id",
                ))
                .to_owned(),
        )
        .await?;
        index(m, "status_notes_region_idx", "care_offer_status_notes", &["region_code", "status"], false).await?;
        m.create_table(
            with_meta(
                Table::create()
                    .table("region_closure_rules")
                    .col(string_len("region_code", 40).primary_key())
                    .col(integer("notice_weeks"))
                    .foreign_key(&mut fk(
                        "closure_rules_region_fk",
                        "region_closure_rules",
                        "region_code",
                        "regions",
                        "code",
                    )),
            )
            .to_owned(),
        )
        .await?;
        m.create_table(
            with_meta(
                Table::create()
                    .table("regional_actions")
                    .col(string_len("id", 36).primary_key())
                    .col(string_len("region_code", 40))
                    .col(string_len("overview_id", 36))
                    .col(string_len("title", 200))
                    .col(text("description"))
                    .col(string_len("owner_id", 36))
                    .col(date("due_date"))
                    .col(string_len("status", 32))
                    .foreign_key(&mut fk("actions_region_fk", "regional_actions", "region_code", "regions", "code"))
                    .foreign_key(&mut fk(
                        "actions_overview_fk",
                        "regional_actions",
                        "overview_id",
                        "regional_overviews",
                        "id",
                    ))
                    .foreign_key(&mut fk("actions_owner_fk", "regional_actions", "owner_id", "organisations", "id")),
            )
            .to_owned(),
        )
        .await?;
        index(m, "actions_region_idx", "regional_actions", &["region_code", "id"], false).await?;
        index(m, "actions_overview_idx", "regional_actions", &["overview_id", "id"], false).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in ["regional_actions", "region_closure_rules", "care_offer_status_notes"] {
            m.drop_table(Table::drop().table(t).to_owned()).await?;
        }
        Ok(())
    }
}

/// Regional care forms' lifecycle (issue 21 gaps): a version, record metadata and retirement on
/// `care_forms`. Existing forms get their metadata from their `create` audit entry (regional
/// forms) or the hub operator at the time of the upgrade (the national list).
struct AddCareFormLifecycle;

impl MigrationName for AddCareFormLifecycle {
    fn name(&self) -> &str {
        "m2026_12_06_care_form_lifecycle"
    }
}

#[allow(elided_lifetimes_in_paths)]
#[async_trait::async_trait]
impl MigrationTrait for AddCareFormLifecycle {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        use sea_orm::{ConnectionTrait as _, DbBackend, Statement};
        // One alteration per statement (SQLite's builder allows no more); SQLite adds no column
        // with a non-constant default, so the metadata columns are nullable and filled below
        // (every insert sets them from now on).
        let columns = [
            integer("version").default(1).to_owned(),
            timestamp_with_time_zone_null("created_at"),
            timestamp_with_time_zone_null("updated_at"),
            string_len_null("created_by", 36),
            string_len_null("updated_by", 36),
            timestamp_with_time_zone_null("retired_at"),
            text_null("retirement_reason"),
        ];
        for mut column in columns {
            m.alter_table(Table::alter().table("care_forms").add_column(&mut column).to_owned()).await?;
        }
        let conn = m.get_connection();
        let backend = conn.get_database_backend();
        let now = if backend == DbBackend::Postgres { "$1" } else { "?" };
        let created = |column: &str| {
            format!(
                "(SELECT a.{column} FROM audit_log a WHERE a.entity = 'CareForm' AND a.entity_id = care_forms.code \
                 AND a.action = 'create' ORDER BY a.at LIMIT 1)"
            )
        };
        let sql = format!(
            "UPDATE care_forms SET created_at = COALESCE({}, {now}), created_by = COALESCE({}, \
             (SELECT o.id FROM organisations o WHERE o.kind = 'HUB_OPERATOR' ORDER BY o.id LIMIT 1), \
             '00000000-0000-0000-0000-000000000000')",
            created("at"),
            created("org"),
        );
        conn.execute_raw(Statement::from_sql_and_values(backend, sql, [chrono::Utc::now().into()])).await?;
        conn.execute_unprepared("UPDATE care_forms SET updated_at = created_at, updated_by = created_by").await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for column in
            ["retirement_reason", "retired_at", "updated_by", "created_by", "updated_at", "created_at", "version"]
        {
            m.alter_table(Table::alter().table("care_forms").drop_column(column).to_owned()).await?;
        }
        Ok(())
    }
}

/// Care-use imports (issue 21 gaps): one row per supplier and quarter with a version, so that a
/// re-import can name the version it replaces and two imports of the same quarter meet at one
/// row (the loser gets `CONFLICT`). Quarters imported before get version 1.
struct CreateCareUseImports;

impl MigrationName for CreateCareUseImports {
    fn name(&self) -> &str {
        "m2026_12_06_care_use_imports"
    }
}

#[allow(elided_lifetimes_in_paths)]
#[async_trait::async_trait]
impl MigrationTrait for CreateCareUseImports {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            with_meta(
                Table::create()
                    .table("care_use_imports")
                    .col(string_len("supplier_id", 36))
                    .col(string_len("period", 7))
                    .col(integer("figures"))
                    .col(integer("flows"))
                    .primary_key(Index::create().col("supplier_id").col("period"))
                    .foreign_key(&mut fk(
                        "care_use_imports_supplier_fk",
                        "care_use_imports",
                        "supplier_id",
                        "organisations",
                        "id",
                    )),
            )
            .to_owned(),
        )
        .await?;
        m.get_connection()
            .execute_unprepared(
                "INSERT INTO care_use_imports (supplier_id, period, figures, flows, version, created_at, \
                 updated_at, created_by, updated_by) \
                 SELECT supplier_id, period, SUM(figure), SUM(flow), 1, MIN(imported_at), MAX(imported_at), \
                 MIN(imported_by), MAX(imported_by) FROM ( \
                 SELECT supplier_id, period, 1 AS figure, 0 AS flow, imported_at, imported_by FROM care_use_figures \
                 UNION ALL \
                 SELECT supplier_id, period, 0 AS figure, 1 AS flow, imported_at, imported_by FROM care_use_flows \
                 ) imported GROUP BY supplier_id, period",
            )
            .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table("care_use_imports").to_owned()).await
    }
}

/// Offers by region and category (issue 18): a regional overview reads a page per category, and
/// with this index each page is the first rows of one index range instead of a sort of every
/// offer in the region.
struct AddOfferCategoryIndex;

impl MigrationName for AddOfferCategoryIndex {
    fn name(&self) -> &str {
        "m2026_12_07_offer_category_index"
    }
}

#[allow(elided_lifetimes_in_paths)]
#[async_trait::async_trait]
impl MigrationTrait for AddOfferCategoryIndex {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        index(m, "offers_region_category_idx", "care_offers", &["region_code", "category", "id"], false).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_index(Index::drop().name("offers_region_category_idx").table("care_offers").to_owned()).await
    }
}
