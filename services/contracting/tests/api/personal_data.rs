//! The personal-data guard on contracting's free text (volume agreement, guarantee description,
//! notes, reasons, guidelines): BSNs, dates of birth, e-mail addresses and phone numbers are
//! refused with `BAD_USER_INPUT` naming the field and the kind, never repeating the value.

use serde_json::{Value, json};

use crate::helpers::*;

const SAMPLES: [(&str, &str); 4] = [
    ("Afspraak voor cliënt 123 456 782 apart gemaakt", "citizen service number (BSN)"),
    ("Uitzondering voor mevrouw (geb. 01/02/1961)", "date of birth"),
    ("Vragen: behandelaar.vos@outlook.com", "e-mail address"),
    ("Casemanager 010-2345678 belt terug", "phone number"),
];

#[tokio::test]
async fn contract_terms_refuse_personal_data() {
    let app = TestApp::spawn().await;
    let draft = app.create(&i1(), P1, terms(&[OFFER_P1_CRISIS])).await;
    let before = app.contract_rows().await;
    for sample in SAMPLES {
        let variants: [(&str, Value); 3] = [
            ("volumeAgreement", with(terms(&[OFFER_P1_CRISIS]), "volumeAgreement", json!(sample.0))),
            (
                "guarantee.description",
                with(terms(&[OFFER_P1_CRISIS]), "guarantee", json!({"amountEur": 1.0, "description": sample.0})),
            ),
            ("notes", with(terms(&[OFFER_P1_CRISIS]), "notes", json!(sample.0))),
        ];
        for (field, t) in variants {
            let resp = app.try_create(&i1(), P1, t.clone()).await;
            resp.expect_personal_data_refused("createContract", field, sample.0, sample.1);
            let q = "mutation($id: ID!, $v: Int!, $t: ContractTermsInput!) { updateContractDraft(id: $id, expectedVersion: $v, terms: $t) { id } }";
            let resp = app
                .graphql(q)
                .var("id", id_of(&draft))
                .var("v", version(&draft))
                .var("t", t)
                .as_caller(&i1())
                .send()
                .await;
            resp.expect_personal_data_refused("updateContractDraft", field, sample.0, sample.1);
        }
    }
    assert_eq!(app.contract_rows().await, before, "nothing stored");
}

#[tokio::test]
async fn reasons_and_guidelines_refuse_personal_data() {
    let app = TestApp::spawn().await;
    let k = app.proposed(&i1(), P1, terms(&[OFFER_P1_CRISIS])).await;
    for sample in SAMPLES {
        let resp = app.act_with_reason(&p1(), "returnContract", &id_of(&k), version(&k), sample.0).await;
        resp.expect_personal_data_refused("returnContract", "reason", sample.0, sample.1);
        let resp = app
            .graphql(CREATE_GUIDELINE)
            .var("y", 2027)
            .var("t", "Spelregels 2027")
            .var("b", sample.0)
            .as_caller(&national_table())
            .send()
            .await;
        resp.expect_personal_data_refused("createContractingGuideline", "body", sample.0, sample.1);
        let resp = app
            .graphql(CREATE_GUIDELINE)
            .var("y", 2027)
            .var("t", sample.0)
            .var("b", "Meerjarige afspraken.")
            .as_caller(&national_table())
            .send()
            .await;
        resp.expect_personal_data_refused("createContractingGuideline", "title", sample.0, sample.1);
    }
    assert_eq!(app.contract_as(&i1(), &id_of(&k)).await["status"], "PROPOSED");
}
