//! Schema migrations of the contracting subgraph; unchanged on SQLite and PostgreSQL.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use ggzhub_kit::migration::{fk_on_delete, index, with_meta};

/// The contracting subgraph's migrator (own bookkeeping table).
pub struct Migrator;

impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(ggzhub_kit::audit::CreateAuditLog),
            Box::new(CreateContractingTables),
            Box::new(CreateOfferPlaces),
            Box::new(ggzhub_kit::changes::CreateChangeLog),
        ]
    }

    fn migration_table_name() -> sea_orm::DynIden {
        "contracting_migrations".into()
    }
}

struct CreateContractingTables;

impl MigrationName for CreateContractingTables {
    fn name(&self) -> &str {
        "m0001_create_contracting_tables"
    }
}

/// A foreign key to the contract a row belongs to, deleted with it.
fn fk(name: &str, from_table: &'static str, from: &'static str) -> ForeignKeyCreateStatement {
    fk_on_delete(name, from_table, from, "contracts", "id", ForeignKeyAction::Cascade)
}

// The trait's signature elides SchemaManager's lifetime; matching it needs the same elision.
#[allow(elided_lifetimes_in_paths)]
#[async_trait::async_trait]
impl MigrationTrait for CreateContractingTables {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            with_meta(
                Table::create()
                    .table("contracts")
                    .col(string_len("id", 36).primary_key())
                    .col(string_len("insurer_id", 36))
                    .col(string_len("provider_id", 36))
                    .col(string_len("status", 32))
                    .col(integer("first_year"))
                    .col(integer("last_year"))
                    .col(json("terms"))
                    .col(integer("terms_version"))
                    .col(json_null("pending_terms"))
                    .col(text_null("return_reason"))
                    .col(text_null("amendment_rejection"))
                    .col(text_null("termination_reason"))
                    .col(timestamp_with_time_zone_null("agreed_at")),
            )
            .to_owned(),
        )
        .await?;
        index(m, "contracts_insurer_idx", "contracts", &["insurer_id", "id"], false).await?;
        index(m, "contracts_provider_idx", "contracts", &["provider_id", "id"], false).await?;
        m.create_table(
            Table::create()
                .table("contract_offers")
                .col(string_len("id", 36).primary_key())
                .col(string_len("contract_id", 36))
                .col(string_len("offer_id", 36))
                .foreign_key(&mut fk("contract_offers_contract_fk", "contract_offers", "contract_id"))
                .to_owned(),
        )
        .await?;
        index(m, "contract_offers_uq", "contract_offers", &["contract_id", "offer_id"], true).await?;
        index(m, "contract_offers_offer_idx", "contract_offers", &["offer_id"], false).await?;
        m.create_table(
            Table::create()
                .table("contract_history")
                .col(string_len("id", 36).primary_key())
                .col(string_len("contract_id", 36))
                .col(integer("terms_version"))
                .col(json("terms"))
                .col(timestamp_with_time_zone("replaced_at"))
                .col(string_len("replaced_by", 36))
                .foreign_key(&mut fk("contract_history_contract_fk", "contract_history", "contract_id"))
                .to_owned(),
        )
        .await?;
        index(m, "contract_history_idx", "contract_history", &["contract_id", "terms_version"], true).await?;
        m.create_table(
            with_meta(
                Table::create()
                    .table("contracting_guidelines")
                    .col(string_len("id", 36).primary_key())
                    .col(integer("year"))
                    .col(string_len("title", 200))
                    .col(text("body")),
            )
            .to_owned(),
        )
        .await?;
        index(m, "guidelines_year_uq", "contracting_guidelines", &["year"], true).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in ["contracting_guidelines", "contract_history", "contract_offers", "contracts"] {
            m.drop_table(Table::drop().table(t).to_owned()).await?;
        }
        Ok(())
    }
}

/// Where each care offer a contract refers to lies: its region and category, as the region
/// subgraph told when a contract's terms were checked. Both never change for an offer (the region
/// subgraph's `updateCareOffer` changes neither), so the copy cannot go stale; it lets the
/// regional contracting picture group contracts by region and category in SQL.
struct CreateOfferPlaces;

impl MigrationName for CreateOfferPlaces {
    fn name(&self) -> &str {
        "m0002_create_offer_places"
    }
}

#[allow(elided_lifetimes_in_paths)]
#[async_trait::async_trait]
impl MigrationTrait for CreateOfferPlaces {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("offer_places")
                .col(string_len("offer_id", 36).primary_key())
                .col(string_len("region_code", 40))
                .col(string_len("category", 32))
                .to_owned(),
        )
        .await?;
        index(m, "offer_places_region_idx", "offer_places", &["region_code", "category", "offer_id"], false).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table("offer_places").to_owned()).await
    }
}
