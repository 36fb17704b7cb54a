//! Database entities of the contracting subgraph (sea-orm).

/// An insurer–provider contract.
pub mod contract {
    use sea_orm::entity::prelude::*;

    /// An insurer–provider contract.
    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "contracts")]
    pub struct Model {
        /// Id (UUID).
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        /// Contracting insurer.
        pub insurer_id: String,
        /// Contracted provider.
        pub provider_id: String,
        /// Lifecycle status.
        pub status: String,
        /// First year of the current terms.
        pub first_year: i32,
        /// Last year of the current terms.
        pub last_year: i32,
        /// Current terms (ContractTerms as JSON).
        pub terms: Json,
        /// Version of the terms (1, then +1 per agreed amendment).
        pub terms_version: i32,
        /// An amendment proposed by the insurer, awaiting the provider.
        pub pending_terms: Option<Json>,
        /// Why the provider sent the last proposal back.
        pub return_reason: Option<String>,
        /// Why the provider rejected the last amendment.
        pub amendment_rejection: Option<String>,
        /// Why it was terminated.
        pub termination_reason: Option<String>,
        /// When it was first agreed.
        pub agreed_at: Option<ChronoDateTimeUtc>,
        /// Optimistic-concurrency version.
        pub version: i32,
        /// Created at.
        pub created_at: ChronoDateTimeUtc,
        /// Updated at.
        pub updated_at: ChronoDateTimeUtc,
        /// Creating organisation.
        pub created_by: String,
        /// Last updating organisation.
        pub updated_by: String,
    }

    /// Relations.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// A care offer covered by a contract (for coverage aggregates).
pub mod covered {
    use sea_orm::entity::prelude::*;

    /// A care offer covered by a contract (for coverage aggregates).
    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "contract_offers")]
    pub struct Model {
        /// Id (UUID).
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        /// Contract.
        pub contract_id: String,
        /// Covered care offer.
        pub offer_id: String,
    }

    /// Relations.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// Region and category of a care offer a contract refers to (both fixed for an offer), copied
/// from the region subgraph when terms are checked.
pub mod offer_place {
    use sea_orm::entity::prelude::*;

    /// Region and category of a care offer a contract refers to.
    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "offer_places")]
    pub struct Model {
        /// Care offer id.
        #[sea_orm(primary_key, auto_increment = false)]
        pub offer_id: String,
        /// Region the offer is located in.
        pub region_code: String,
        /// Category of crucial care (stored name).
        pub category: String,
    }

    /// Relations.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// A superseded version of a contract's terms.
pub mod history {
    use sea_orm::entity::prelude::*;

    /// A superseded version of a contract's terms.
    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "contract_history")]
    pub struct Model {
        /// Id (UUID v7).
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        /// Contract.
        pub contract_id: String,
        /// Version of these terms.
        pub terms_version: i32,
        /// The terms.
        pub terms: Json,
        /// When an amendment replaced them.
        pub replaced_at: ChronoDateTimeUtc,
        /// Organisation that agreed the amendment.
        pub replaced_by: String,
    }

    /// Relations.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// Spelregels: the shared contracting rules of a year.
pub mod guideline {
    use sea_orm::entity::prelude::*;

    /// Spelregels: the shared contracting rules of a year.
    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "contracting_guidelines")]
    pub struct Model {
        /// Id (UUID).
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        /// Year.
        pub year: i32,
        /// Title.
        pub title: String,
        /// The rules (no personal data).
        pub body: String,
        /// Optimistic-concurrency version.
        pub version: i32,
        /// Created at.
        pub created_at: ChronoDateTimeUtc,
        /// Updated at.
        pub updated_at: ChronoDateTimeUtc,
        /// Creating organisation.
        pub created_by: String,
        /// Last updating organisation.
        pub updated_by: String,
    }

    /// Relations.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
