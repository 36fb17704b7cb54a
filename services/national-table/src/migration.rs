//! Schema migrations of the national-table subgraph; unchanged on SQLite and PostgreSQL.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use ggzhub_kit::migration::{fk, index, with_meta};

/// The national-table subgraph's migrator (own bookkeeping table).
pub struct Migrator;

impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(ggzhub_kit::audit::CreateAuditLog),
            Box::new(CreateNationalTables),
            Box::new(UniqueNationalMeasurement),
            Box::new(EscalationEvents),
            Box::new(ggzhub_kit::changes::CreateChangeLog),
        ]
    }

    fn migration_table_name() -> sea_orm::DynIden {
        "national_table_migrations".into()
    }
}

struct CreateNationalTables;

impl MigrationName for CreateNationalTables {
    fn name(&self) -> &str {
        "m0001_create_national_tables"
    }
}

// The trait's signature elides SchemaManager's lifetime; matching it needs the same elision.
#[allow(elided_lifetimes_in_paths)]
#[async_trait::async_trait]
impl MigrationTrait for CreateNationalTables {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            with_meta(
                Table::create()
                    .table("escalations")
                    .col(string_len("id", 36).primary_key())
                    .col(string_len("region_code", 40))
                    .col(string_len("category", 32))
                    .col(string_len("target_group", 200))
                    .col(text("problem"))
                    .col(text("region_tried"))
                    .col(json("affected_offer_ids"))
                    .col(string_len("urgency", 16))
                    .col(string_len("status", 32))
                    .col(text_null("decline_reason"))
                    .col(text_null("public_summary"))
                    .col(string_len("raised_by", 36))
                    .col(timestamp_with_time_zone("raised_at"))
                    .col(timestamp_with_time_zone_null("decided_at")),
            )
            .to_owned(),
        )
        .await?;
        index(m, "escalations_region_idx", "escalations", &["region_code", "id"], false).await?;
        m.create_table(
            Table::create()
                .table("escalation_transitions")
                .col(string_len("id", 36).primary_key())
                .col(string_len("escalation_id", 36))
                .col(string_len("from_status", 32))
                .col(string_len("to_status", 32))
                .col(string_len("by_org", 36))
                .col(string("by_subject"))
                .col(timestamp_with_time_zone("at"))
                .col(text("note"))
                .foreign_key(&mut fk(
                    "transitions_escalation_fk",
                    "escalation_transitions",
                    "escalation_id",
                    "escalations",
                    "id",
                ))
                .to_owned(),
        )
        .await?;
        index(m, "transitions_escalation_idx", "escalation_transitions", &["escalation_id", "id"], false).await?;
        m.create_table(
            with_meta(
                Table::create()
                    .table("measures")
                    .col(string_len("id", 36).primary_key())
                    .col(string_len("escalation_id", 36))
                    .col(string_len("title", 200))
                    .col(text("description"))
                    .col(string_len("owner_org_id", 36))
                    .col(date("due_date"))
                    .col(string_len("status", 32))
                    .foreign_key(&mut fk("measures_escalation_fk", "measures", "escalation_id", "escalations", "id")),
            )
            .to_owned(),
        )
        .await?;
        index(m, "measures_escalation_idx", "measures", &["escalation_id", "id"], false).await?;
        m.create_table(
            with_meta(
                Table::create()
                    .table("expertise_networks")
                    .col(string_len("id", 36).primary_key())
                    .col(string_len("name", 200))
                    .col(string_len("target_group", 200))
                    .col(json("member_org_ids"))
                    .col(string_len("consultation_contact", 500)),
            )
            .to_owned(),
        )
        .await?;
        m.create_table(
            with_meta(
                Table::create()
                    .table("supra_regional_listings")
                    .col(string_len("id", 36).primary_key())
                    .col(string_len("offer_id", 36))
                    .col(string_len("target_group", 200))
                    .col(json("regions_served"))
                    .col(boolean("hs8"))
                    .col(string_len_null("expertise_network_id", 36))
                    .foreign_key(&mut fk(
                        "listings_network_fk",
                        "supra_regional_listings",
                        "expertise_network_id",
                        "expertise_networks",
                        "id",
                    )),
            )
            .to_owned(),
        )
        .await?;
        index(m, "listings_offer_uq", "supra_regional_listings", &["offer_id"], true).await?;
        m.create_table(
            with_meta(
                Table::create()
                    .table("national_kpis")
                    .col(string_len("code", 64).primary_key())
                    .col(string_len("name", 200))
                    .col(text("definition"))
                    .col(string_len("unit", 64))
                    .col(string_len("direction", 32))
                    .col(json("targets")),
            )
            .to_owned(),
        )
        .await?;
        m.create_table(
            with_meta(
                Table::create()
                    .table("kpi_measurements")
                    .col(string_len("id", 36).primary_key())
                    .col(string_len("kpi_code", 64))
                    .col(integer("year"))
                    .col(string_len_null("region_code", 40))
                    .col(double("value"))
                    .foreign_key(&mut fk(
                        "measurements_kpi_fk",
                        "kpi_measurements",
                        "kpi_code",
                        "national_kpis",
                        "code",
                    )),
            )
            .to_owned(),
        )
        .await?;
        // NULL region (the national figure) is not unique in SQL: the mutation checks that case.
        index(m, "measurements_key_uq", "kpi_measurements", &["kpi_code", "year", "region_code"], true).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in [
            "kpi_measurements",
            "national_kpis",
            "supra_regional_listings",
            "expertise_networks",
            "measures",
            "escalation_transitions",
            "escalations",
        ] {
            m.drop_table(Table::drop().table(t).to_owned()).await?;
        }
        Ok(())
    }
}

/// One national figure (no region) per KPI and year. SQL treats NULLs as distinct, so the unique
/// key of m0001 does not cover the national figure, and the mutation's look-up before inserting
/// does not stop two concurrent recordings on PostgreSQL: both found none and both inserted.
struct UniqueNationalMeasurement;

impl MigrationName for UniqueNationalMeasurement {
    fn name(&self) -> &str {
        "m0002_unique_national_measurement"
    }
}

#[allow(elided_lifetimes_in_paths)]
#[async_trait::async_trait]
impl MigrationTrait for UniqueNationalMeasurement {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_index(
            Index::create()
                .name("measurements_national_uq")
                .table("kpi_measurements")
                .col("kpi_code")
                .col("year")
                .unique()
                .and_where(Expr::col("region_code").is_null())
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_index(Index::drop().name("measurements_national_uq").table("kpi_measurements").to_owned()).await
    }
}

/// Issue 19: an escalation may come from a region's continuity signal (`signal_id`, unique: the
/// same signal escalated twice, or its event delivered twice, opens one escalation), the outbox
/// of escalation events, and where this subgraph's consumers of the event stream stand.
struct EscalationEvents;

impl MigrationName for EscalationEvents {
    fn name(&self) -> &str {
        "m0003_escalation_events"
    }
}

#[allow(elided_lifetimes_in_paths)]
#[async_trait::async_trait]
impl MigrationTrait for EscalationEvents {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(Table::alter().table("escalations").add_column(string_len_null("signal_id", 36)).to_owned())
            .await?;
        // NULLs are distinct in a unique index on SQLite and PostgreSQL: escalations raised by hand
        // (no signal) do not clash.
        index(m, "escalations_signal_uq", "escalations", &["signal_id"], true).await?;
        ggzhub_kit::outbox::create_table(m).await?;
        m.create_table(
            Table::create()
                .table(crate::follow_through::POSITION_TABLE)
                .col(string_len("consumer", 64).primary_key())
                .col(big_integer("seq"))
                .col(string_len("event_id", 200))
                .col(timestamp_with_time_zone("updated_at"))
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(crate::follow_through::POSITION_TABLE).to_owned()).await?;
        m.drop_table(Table::drop().table("outbox").to_owned()).await?;
        m.drop_index(Index::drop().name("escalations_signal_uq").table("escalations").to_owned()).await?;
        m.alter_table(Table::alter().table("escalations").drop_column("signal_id").to_owned()).await
    }
}
