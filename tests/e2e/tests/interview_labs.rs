//! Interview mode's lab exercises in the browser: the CDC, late-events and
//! cost exercises solved with the lab's own controls inside the exercise,
//! each judged "not yet" at its start state and solved after the fix.

use lakelab_e2e::{
    App, LAB_SETUP, Result, STATEMENT, cdc_command, cdc_idle_batches, choose, late_idle_read,
    open_exercise, submit_exercise,
};

#[tokio::test]
async fn a_poison_pill_sent_to_the_dead_letters_is_judged_solved() -> Result<()> {
    let app = App::start().await?;
    app.wait_ready().await?;
    open_exercise(&app, "cdc-poison-pill").await?;
    // The start state: the lab inside the exercise, stopped on the bad record.
    let batches = app
        .wait_for("the CDC lab", STATEMENT, || async {
            cdc_idle_batches(&app).await
        })
        .await?;
    assert!(app.try_find("#cdc-error").await?.is_some());
    assert!(
        app.try_find(".cdc .story").await?.is_none(),
        "no story or model answers inside an exercise"
    );
    let (passed, _, findings) = submit_exercise(&app).await?;
    assert!(!passed, "{findings}");
    assert!(findings.contains("✗ the pipeline is running"), "{findings}");

    cdc_command(&app, "#cdc-skip", batches).await?;
    let (passed, score, findings) = submit_exercise(&app).await?;
    assert!(passed, "{findings}");
    assert!(findings.contains("dead-letter"), "{findings}");
    assert!(findings.contains("rows differ"), "{findings}");
    assert!(score == "score 100" || score == "score 90", "{score}");
    app.close().await
}

#[tokio::test]
async fn a_future_clock_quarantined_is_judged_solved() -> Result<()> {
    let app = App::start().await?;
    app.wait_ready().await?;
    open_exercise(&app, "late-future-clock").await?;
    app.wait_for("the late-events lab", STATEMENT, || async {
        late_idle_read(&app).await
    })
    .await?;
    // The lab shows the exercise's settings: clocks trusted.
    assert_eq!(
        app.client
            .execute(
                "return document.querySelector('#late-guard').checked;",
                vec![]
            )
            .await?,
        false
    );
    app.click("#late-guard").await?;
    app.click("#late-start").await?;
    app.wait_for("the first batch", LAB_SETUP, || async {
        Ok(late_idle_read(&app).await?.filter(|(read, _)| *read > 0))
    })
    .await?;
    app.click("#late-play").await?;
    app.wait_for("the stream to be read", LAB_SETUP, || async {
        Ok(late_idle_read(&app)
            .await?
            .filter(|(read, records)| read == records))
    })
    .await?;
    let (passed, _, findings) = submit_exercise(&app).await?;
    assert!(passed, "{findings}");
    assert!(findings.contains("records quarantined"), "{findings}");
    app.close().await
}

#[tokio::test]
async fn a_dashboard_bill_halved_in_the_form_is_judged_solved() -> Result<()> {
    let app = App::start().await?;
    app.wait_ready().await?;
    open_exercise(&app, "cost-halve-dashboard").await?;
    // The form starts at today's configuration, priced by the model.
    let price = app.text("#exercise-price").await?;
    assert!(price.starts_with("The cost model: $27"), "{price}");
    let (passed, _, findings) = submit_exercise(&app).await?;
    assert!(!passed, "{findings}");
    assert!(findings.contains("✗ costs at most half"), "{findings}");

    choose(&app, "#exercise-card .rung", "preaggregated").await?;
    choose(&app, "#exercise-card .compute", "jobs").await?;
    let (passed, score, findings) = submit_exercise(&app).await?;
    assert!(passed, "{findings}");
    assert_eq!(score, "score 100");
    assert!(
        app.text("#exercise-price").await?.contains("a day"),
        "the new configuration is priced"
    );
    app.close().await
}
