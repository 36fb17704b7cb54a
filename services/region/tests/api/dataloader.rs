//! DataLoaders: the number of SQL statements a request runs does not grow with the number of
//! offers it returns (no N+1 over offers, providers, regions or care forms).

use crate::helpers::*;

const NESTED: &str = r#"query { regions(first: 50) { edges { node { code
    offers(first: 50) { edges { node { unitName provider { name } region { name } careForm { name } } } } } } } }"#;

async fn statements_for(app: &TestApp, query: &str) -> (usize, usize) {
    let before = app.statement_count();
    let resp = app.graphql(query).as_caller(&national_table()).send().await;
    let after = app.statement_count();
    let offers: usize = resp.data()["regions"]["edges"]
        .as_array()
        .expect("edges")
        .iter()
        .map(|r| r["node"]["offers"]["edges"].as_array().map_or(0, Vec::len))
        .sum();
    (after - before, offers)
}

async fn add_offers(app: &TestApp, per_region: usize, tag: &str) {
    for i in 0..per_region {
        app.insert_offer(PROVIDER_A, "utrecht", "FACT", &format!("FACT {tag} {i}")).await;
        app.insert_offer(PROVIDER_B, "amsterdam", "HIC", &format!("HIC {tag} {i}")).await;
        app.insert_offer(PROVIDER_C, "groningen", "CLINICAL_ADMISSION", &format!("Kliniek {tag} {i}")).await;
    }
}

#[tokio::test]
async fn statements_per_request_do_not_grow_with_the_number_of_offers() {
    let app = TestApp::spawn().await;
    // N = 3 fixture offers + 3 per region = 12 offers.
    add_offers(&app, 3, "a").await;
    let (small, n) = statements_for(&app, NESTED).await;
    assert_eq!(n, 12);
    // 3N = 36 offers.
    add_offers(&app, 8, "b").await;
    let (large, n3) = statements_for(&app, NESTED).await;
    assert_eq!(n3, 36);
    println!("regions → offers → provider/region/careForm: {small} SQL statements for {n} offers, {large} for {n3}");
    assert_eq!(small, large, "statement count grew with the number of offers ({small} → {large})");
    // Regions, offer pages, organisations, regions (of offers), care forms: one statement each.
    assert!(large <= 5, "expected at most 5 statements, got {large}");
}

async fn statements_for_list(app: &TestApp, query: &str) -> usize {
    let before = app.statement_count();
    app.graphql(query).as_caller(&provider_a()).send().await.data();
    app.statement_count() - before
}

#[tokio::test]
async fn nested_offers_of_organisations_are_batched_too() {
    let app = TestApp::spawn().await;
    let query = r#"query { organisations(first: 50) { nodes { name
        careOffers(first: 50) { nodes { unitName careForm { name } region { neighbours { code } } } } } } }"#;
    let small = statements_for_list(&app, query).await;
    add_offers(&app, 10, "c").await;
    let large = statements_for_list(&app, query).await;
    println!("organisations → careOffers → careForm/region/neighbours: {small} then {large} SQL statements");
    assert_eq!(small, large);
}

/// One category page of utrecht's offers, asked alone.
const ONE_CATEGORY: &str = r#"query($category: CareCategory!, $first: Int!, $after: String, $status: OfferStatus) {
    region(code: "utrecht") { offers(category: $category, status: $status, first: $first, after: $after) {
        totalCount pageInfo { hasNextPage hasPreviousPage endCursor } nodes { id category status } } } }"#;

/// A page per category of utrecht's offers in one request, as the regional overview asks them.
const EVERY_CATEGORY: &str = r#"query($first: Int!, $acute: String, $outreach: String, $clinical: String, $secure: String, $status: OfferStatus) {
    region(code: "utrecht") {
        acute: offers(category: ACUTE, status: $status, first: $first, after: $acute) { ...Page }
        outreach: offers(category: OUTREACH, status: $status, first: $first, after: $outreach) { ...Page }
        clinical: offers(category: CLINICAL, status: $status, first: $first, after: $clinical) { ...Page }
        secure: offers(category: SECURE, status: $status, first: $first, after: $secure) { ...Page } } }
    fragment Page on CareOfferConnection { totalCount pageInfo { hasNextPage hasPreviousPage endCursor } nodes { id category status } }"#;

const CATEGORIES: [(&str, &str); 4] =
    [("acute", "ACUTE"), ("outreach", "OUTREACH"), ("clinical", "CLINICAL"), ("secure", "SECURE")];

/// The category pages of a region are one statement (and their counts another), and each page is
/// exactly the page asked alone: order, cursor, `hasNextPage`, `totalCount`, the next page after
/// the cursor, and with a status filter.
#[tokio::test]
async fn the_category_pages_of_a_region_are_one_statement_and_the_same_pages() {
    let app = TestApp::spawn().await;
    // utrecht: the fixture's crisis (ACUTE) and FACT (OUTREACH) offers, and more; none SECURE.
    for i in 0..4 {
        app.insert_offer(PROVIDER_A, "utrecht", "CRISIS_SERVICE", &format!("Crisis {i}")).await;
        app.insert_offer(PROVIDER_A, "utrecht", "FACT", &format!("FACT {i}")).await;
        app.insert_offer(PROVIDER_C, "utrecht", "CLINICAL_ADMISSION", &format!("Kliniek {i}")).await;
        // Other regions' offers are no part of utrecht's pages.
        app.insert_offer(PROVIDER_B, "amsterdam", "HIC", &format!("HIC {i}")).await;
    }
    let national = national_table();
    for status in [None, Some("SECURED")] {
        let mut after: std::collections::HashMap<&str, Option<String>> =
            CATEGORIES.iter().map(|(a, _)| (*a, None)).collect();
        for page in 0..3 {
            let mut together = app.graphql(EVERY_CATEGORY).var("first", 2).var("status", status);
            for (alias, _) in CATEGORIES {
                together = together.var(alias, after[alias].clone());
            }
            let before = app.statement_count();
            let resp = together.as_caller(&national).send().await;
            let statements = app.statement_count() - before;
            // The region, the four first pages, their four counts; later pages have a cursor each
            // (pages after different cursors are separate statements, as before).
            if page == 0 {
                assert_eq!(statements, 3, "status {status:?}");
            }
            for (alias, category) in CATEGORIES {
                let alone = app
                    .graphql(ONE_CATEGORY)
                    .var("category", category)
                    .var("first", 2)
                    .var("after", after[alias].clone())
                    .var("status", status)
                    .as_caller(&national)
                    .send()
                    .await;
                let page_alone = &alone.data()["region"]["offers"];
                assert_eq!(resp.data()["region"][alias], *page_alone, "{category}, status {status:?}, page {page}");
                let nodes = page_alone["nodes"].as_array().expect("nodes");
                assert!(nodes.iter().all(|n| n["category"] == category), "{category}: {page_alone}");
                after.insert(alias, page_alone["pageInfo"]["endCursor"].as_str().map(str::to_owned));
            }
        }
    }
    // Every page was read: five ACUTE offers in utrecht, two per page.
    let all = app
        .graphql(ONE_CATEGORY)
        .var("category", "ACUTE")
        .var("first", 100)
        .var("after", None::<String>)
        .var("status", None::<String>)
        .as_caller(&national)
        .send()
        .await;
    assert_eq!(all.data()["region"]["offers"]["totalCount"], 5);
    assert_eq!(all.data()["region"]["offers"]["nodes"].as_array().map(Vec::len), Some(5));
}

/// Pages of several regions and categories in one request: one statement for all of them, each
/// page only its own region's and category's offers.
#[tokio::test]
async fn category_pages_of_several_regions_are_one_statement() {
    let _plain_path = PLAIN_PATH.read().await;
    let app = TestApp::spawn().await;
    add_offers(&app, 3, "a").await;
    let query = r#"query { regions(first: 50) { nodes { code
        acute: offers(category: ACUTE, first: 2) { nodes { id category region { code } } }
        outreach: offers(category: OUTREACH, first: 2) { nodes { id category region { code } } } } } }"#;
    let before = app.statement_count();
    let resp = app.graphql(query).as_caller(&national_table()).send().await;
    // The regions and the pages; the offers' regions are asked for their code only, which the
    // offers' rows hold.
    assert_eq!(app.statement_count() - before, 2, "{:#?}", app.db.statements_since(before));
    let mut seen = 0;
    for region in resp.data()["regions"]["nodes"].as_array().expect("regions") {
        for (alias, category) in [("acute", "ACUTE"), ("outreach", "OUTREACH")] {
            for node in region[alias]["nodes"].as_array().expect("nodes") {
                assert_eq!(node["category"], category);
                assert_eq!(node["region"]["code"], region["code"]);
                seen += 1;
            }
        }
    }
    // utrecht: its crisis offer (ACUTE) and two of its four FACT offers (OUTREACH); amsterdam:
    // two of its four HIC offers (ACUTE).
    assert_eq!(seen, 5);
}

/// A region and its coordinating insurer are one statement (a left join), also for several
/// regions and for one without a coordinating insurer; the insurer is the organisation itself.
#[tokio::test]
async fn regions_come_with_their_coordinating_insurer_in_one_statement() {
    let app = TestApp::spawn().await;
    let query = r#"query { utrecht: region(code: "utrecht") { code coordinatingInsurer { id name kind } }
        amsterdam: region(code: "amsterdam") { code coordinatingInsurer { id name kind } }
        groningen: region(code: "groningen") { code coordinatingInsurer { id name kind } } }"#;
    let before = app.statement_count();
    let resp = app.graphql(query).as_caller(&national_table()).send().await;
    assert_eq!(app.statement_count() - before, 1);
    let data = resp.data();
    assert_eq!(data["utrecht"]["coordinatingInsurer"]["id"], INSURER_X.to_string());
    assert_eq!(data["utrecht"]["coordinatingInsurer"]["kind"], "INSURER");
    assert_eq!(data["amsterdam"]["coordinatingInsurer"]["id"], INSURER_Y.to_string());
    assert!(data["groningen"]["coordinatingInsurer"].is_null());
    let alone = app
        .graphql(r#"query($id: ID!) { organisation(id: $id) { id name kind } }"#)
        .var("id", INSURER_X.to_string())
        .as_caller(&national_table())
        .send()
        .await;
    assert_eq!(data["utrecht"]["coordinatingInsurer"], alone.data()["organisation"]);
}

/// Issue 18: a page of offers loads its offers' providers, care forms and regions with the page
/// (through a fragment and through `edges.node` alike), only when its selection asks for them,
/// and every offer answers as it does when asked for on its own (every field).
#[tokio::test]
async fn a_page_loads_the_relations_it_asks_for_and_answers_as_single_offers_do() {
    let app = TestApp::spawn().await;
    add_offers(&app, 4, "r").await;
    // Every field of the offer's row too: on PostgreSQL a page decodes its rows by position.
    const RELATED: &str = "id unitName location status availability category supraRegional regionsServed
        inclusionCriteria capacity { beds places teams fte } intakePause { from until reason } version
        meta { createdAt createdBy updatedAt updatedBy }
        provider { id name } careForm { code name } region { code name }";
    let page = format!(
        r#"query {{ region(code: "utrecht") {{
            byNodes: offers(first: 50) {{ nodes {{ ...Related }} }}
            byEdges: offers(first: 50) {{ edges {{ node {{ {RELATED} }} }} }} }} }}
        fragment Related on CareOffer {{ {RELATED} }}"#
    );
    let before = app.statement_count();
    let resp = app.graphql(&page).as_caller(&national_table()).send().await;
    let with_relations = app.statement_count() - before;
    let region = &resp.data()["region"];
    let nodes = region["byNodes"]["nodes"].as_array().expect("nodes").clone();
    assert!(nodes.len() >= 5, "utrecht lists its offers: {region:#}");
    let edges: Vec<_> =
        region["byEdges"]["edges"].as_array().expect("edges").iter().map(|e| e["node"].clone()).collect();
    assert_eq!(nodes, edges);
    for node in &nodes {
        let alone = app
            .graphql(&format!("query($id: ID!) {{ careOffer(id: $id) {{ {RELATED} }} }}"))
            .var("id", node["id"].clone())
            .as_caller(&national_table())
            .send()
            .await;
        assert_eq!(&alone.data()["careOffer"], node);
        assert_eq!(node["region"]["code"], "utrecht");
        assert!(node["provider"]["name"].as_str().is_some_and(|n| !n.is_empty()), "{node:#}");
    }
    assert!(nodes.iter().any(|n| n["intakePause"]["reason"] == "Staff shortage"), "the paused FACT team: {nodes:#?}");
    assert!(
        nodes.iter().any(|n| n["capacity"]["beds"].is_number() || n["capacity"]["teams"].is_number()),
        "{nodes:#?}"
    );
    // Region, offer pages, then organisations, care forms and regions: one statement each.
    assert_eq!(with_relations, 5, "statements of the page with its relations");
    let before = app.statement_count();
    app.graphql(r#"{ region(code: "utrecht") { offers(first: 50) { nodes { id unitName } } } }"#)
        .as_caller(&national_table())
        .send()
        .await
        .data();
    assert_eq!(app.statement_count() - before, 2, "a page that asks for no relation loads none");
}

/// Issue 18: an offer's `region { code }` (what the gateway asks a page for contracting's
/// `@requires`) is answered from the offer's row, on `nodes` and `edges.node`, in fragments and
/// with `__typename`; the answer is the one the loaded region gives, and a selection that asks
/// the region anything else loads the regions.
#[tokio::test]
async fn an_offers_region_code_needs_no_region_loaded() {
    let _plain_path = PLAIN_PATH.read().await;
    let app = TestApp::spawn().await;
    add_offers(&app, 3, "c").await;
    let page = |region: &str| {
        format!(
            r#"query {{ region(code: "utrecht") {{
                byNodes: offers(first: 50) {{ nodes {{ id ...R provider {{ id }} }} }}
                byEdges: offers(first: 50) {{ edges {{ node {{ id region {{ {region} }} provider {{ id }} }} }} }} }} }}
            fragment R on CareOffer {{ region {{ {region} }} }}"#
        )
    };
    let statements = |query: String| {
        let app = &app;
        async move {
            let before = app.statement_count();
            let resp = app.graphql(&query).as_caller(&national_table()).send().await;
            (app.statement_count() - before, resp.data().clone())
        }
    };
    let (code_only, data) = statements(page("code __typename ... on Region { c: code }")).await;
    // The region, the pages, the providers.
    assert_eq!(code_only, 3, "statements when the offers' regions are asked for their code only");
    let nodes = data["region"]["byNodes"]["nodes"].as_array().expect("nodes").clone();
    assert!(nodes.len() >= 4, "{data:#}");
    let edges: Vec<_> =
        data["region"]["byEdges"]["edges"].as_array().expect("edges").iter().map(|e| e["node"].clone()).collect();
    assert_eq!(nodes, edges);
    for node in &nodes {
        assert_eq!(node["region"], serde_json::json!({ "code": "utrecht", "__typename": "Region", "c": "utrecht" }));
        // The offer on its own goes through its resolver, which loads its region.
        let alone = app
            .graphql(
                r#"query($id: ID!) { careOffer(id: $id) { region { code __typename ... on Region { c: code } } } }"#,
            )
            .var("id", node["id"].clone())
            .as_caller(&national_table())
            .send()
            .await;
        assert_eq!(alone.data()["careOffer"]["region"], node["region"]);
    }
    // Asked for more than its code: the regions are loaded, and the codes are the loaded
    // regions' codes.
    let (loaded, data) = statements(page("code name")).await;
    assert_eq!(loaded, 4, "statements when the offers' regions are asked for their name too");
    for node in data["region"]["byNodes"]["nodes"].as_array().expect("nodes") {
        assert_eq!(node["region"]["code"], "utrecht");
        assert!(node["region"]["name"].as_str().is_some_and(|n| !n.is_empty()), "{node:#}");
    }
    let mixed = r#"query { region(code: "utrecht") {
            a: offers(first: 50) { nodes { id region { code } } }
            b: offers(first: 50) { edges { node { id region { name } } } } } }"#
        .to_owned();
    let (both, data) = statements(mixed).await;
    // One page key (the same page twice): the region, the page, the offers' regions.
    assert_eq!(both, 3, "{data:#}");
    assert!(data["region"]["a"]["nodes"].as_array().expect("nodes").iter().all(|n| n["region"]["code"] == "utrecht"));
    // One page whose `nodes` ask the code only and whose `edges` ask more: loaded.
    let one_page = r#"query { region(code: "utrecht") { offers(first: 50) {
            nodes { id region { code } } edges { node { region { name } } } } } }"#
        .to_owned();
    let (loaded, data) = statements(one_page).await;
    assert_eq!(loaded, 3, "the region, the page, the offers' regions: {data:#}");
    // Offers the plain path leaves to their resolver (`meta` is not a plain field) load their
    // regions through the DataLoader: the same codes, one statement for the page.
    let usual = r#"query { region(code: "utrecht") { offers(first: 50) {
            nodes { id meta { createdAt } region { code } } } } }"#
        .to_owned();
    let (resolved, data) = statements(usual).await;
    assert_eq!(resolved, 3, "the region, the page, the offers' regions: {data:#}");
    let nodes = data["region"]["offers"]["nodes"].as_array().expect("nodes");
    assert!(
        nodes.len() >= 4
            && nodes.iter().all(|n| n["region"]["code"] == "utrecht" && n["meta"]["createdAt"].is_string())
    );
}

/// An offer in a list, and its small objects (provider, care form, region, capacity, intake
/// pause), are answered from their plain fields when the selection on them is plain
/// (`ggzhub_kit::leaf`, issue 18): the same answer, errors included, as async-graphql's usual
/// path gives for the same query, and a field the plain path leaves to its resolver still
/// answers.
#[tokio::test]
async fn an_offers_small_objects_answer_alike_on_the_plain_and_the_usual_path() {
    let _plain_path = PLAIN_PATH.write().await;
    let app = TestApp::spawn().await;
    add_offers(&app, 4, "l").await;
    // Fields, aliases and fragments, as the gateway writes them.
    let query = r#"query { region(code: "utrecht") { offers(first: 50) { ...Page } } }
        fragment Page on CareOfferConnection { nodes { __typename id unitName location supraRegional version
            category status availability provider { ...Org } careForm { code name description }
            region { code name } capacity { beds places teams fte } intakePause { from until reason }
            ... on CareOffer { p: provider { id } } } }
        fragment Org on Organisation { __typename id name kvk ura agb uzovi }"#;
    // The answer, and how many offers the plain path answered as a whole (at least, when tests
    // run side by side in one process; none while it is off).
    let answer = |caller: ggzhub_kit::testing::TestCaller, plain: bool| {
        let app = &app;
        async move {
            let count = || ggzhub_kit::leaf::plain_answers("CareOffer").expect("tests are built with debug assertions");
            ggzhub_kit::leaf::set_plain_path(plain);
            let before = count();
            let response = app.graphql(query).as_caller(&caller).send().await;
            let answered = count() - before;
            ggzhub_kit::leaf::set_plain_path(true);
            if !plain {
                assert_eq!(answered, 0, "offers answered on the plain path while it is off");
            }
            (response, answered)
        }
    };
    let errors = |body: &serde_json::Value| {
        let mut errors: Vec<(String, String)> = body["errors"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|e| (e["path"].to_string(), e["extensions"]["code"].to_string()))
            .collect();
        errors.sort();
        errors
    };
    // A caller who may not read capacity: `null` with `FORBIDDEN` on every offer, either way.
    let ((plain, _), (usual, _)) = (answer(patient_org(), true).await, answer(patient_org(), false).await);
    assert_eq!(plain.body["data"], usual.body["data"]);
    let refused = errors(&plain.body);
    assert_eq!(refused, errors(&usual.body));
    let offers = plain.body["data"]["region"]["offers"]["nodes"].as_array().expect("nodes").len();
    assert!(offers >= 5 && refused.len() == offers, "{refused:?}");
    assert!(refused.iter().all(|(path, code)| path.ends_with(r#","capacity"]"#) && code == r#""FORBIDDEN""#));
    // One who may.
    let ((plain, answered), (usual, _)) = (answer(national_table(), true).await, answer(national_table(), false).await);
    let nodes = plain.data()["region"]["offers"]["nodes"].as_array().expect("nodes").clone();
    assert!(nodes.len() >= 5, "{nodes:#?}");
    // Each offer as a whole, its small objects within it.
    assert!(answered >= nodes.len() as u64, "{answered} of {} offers on the plain path", nodes.len());
    assert_eq!(plain.data(), usual.data());
    assert!(nodes.iter().all(|n| n["provider"]["__typename"] == "Organisation" && n["careForm"]["code"].is_string()));
    assert!(
        nodes.iter().all(|n| n["__typename"] == "CareOffer" && n["status"].is_string() && n["version"].is_number())
    );
    assert!(nodes.iter().all(|n| n["p"]["id"] == n["provider"]["id"]), "{nodes:#?}");
    assert!(nodes.iter().any(|n| n["intakePause"]["from"].is_string()), "the paused FACT team: {nodes:#?}");
    assert!(nodes.iter().any(|n| n["capacity"]["teams"].is_number() && n["capacity"]["fte"].is_number()), "{nodes:#?}");
    let page = |selection: &str| {
        format!(r#"query {{ region(code: "utrecht") {{ offers(first: 50) {{ nodes {{ id {selection} }} }} }} }}"#)
    };
    // Fields that are not plain (an enum read from a stored string, a loaded relation) beside
    // plain ones: the usual path answers the whole object.
    let mixed = app
        .graphql(&page("provider { id kind } careForm { code category } region { code kind }"))
        .as_caller(&national_table())
        .send()
        .await;
    for node in mixed.data()["region"]["offers"]["nodes"].as_array().expect("nodes") {
        assert!(node["provider"]["kind"].is_string() && node["careForm"]["category"].is_string(), "{node:#}");
        assert!(node["region"]["kind"].is_string(), "{node:#}");
    }
}

/// More pages in one request than SQLite takes terms in one compound `SELECT` (500): the pages
/// are loaded in several statements, each page still right.
#[tokio::test]
async fn six_hundred_pages_in_one_request_are_loaded() {
    let app = TestApp::spawn().await;
    add_offers(&app, 2, "p").await;
    let categories = ["ACUTE", "OUTREACH", "CLINICAL", "SECURE", "SPECIALIST_MHC", "SPECIALIST_HOSPITAL"];
    let mut fields = String::new();
    for first in 1..=100 {
        for category in categories {
            fields.push_str(&format!(
                "p{first}_{category}: offers(category: {category}, first: {first}) {{ nodes {{ id }} }}\n"
            ));
        }
    }
    let before = app.statement_count();
    let resp = app
        .graphql(&format!(r#"{{ region(code: "utrecht") {{ {fields} }} }}"#))
        .as_caller(&national_table())
        .send()
        .await;
    let statements = app.statement_count() - before;
    let region = &resp.data()["region"];
    let ids = |first: usize, category: &str| -> Vec<String> {
        region[format!("p{first}_{category}")]["nodes"]
            .as_array()
            .expect("nodes")
            .iter()
            .map(|n| n["id"].as_str().expect("id").to_owned())
            .collect()
    };
    for category in categories {
        let all = ids(100, category);
        for first in 1..=100 {
            let page = ids(first, category);
            assert_eq!(page, all[..first.min(all.len())], "{category}, first: {first}");
        }
    }
    assert!(!ids(100, "OUTREACH").is_empty(), "utrecht has FACT teams");
    // The region, then the 600 pages in statements of at most 200.
    assert_eq!(statements, 1 + 3, "statements");
}
