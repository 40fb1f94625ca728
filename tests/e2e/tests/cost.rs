//! The cost lab in the browser, end to end: the CDC lab's and the
//! slow-query lab's measurements priced, a day simulated per option, the
//! break-even found, and a bad price edit refused with the last valid
//! table kept.

use lakelab_e2e::{App, Result, choose, run_cost_lab};

/// A number attribute of an element.
async fn number(app: &App, css: &str, attr: &str) -> Result<f64> {
    let value = app
        .attr(css, attr)
        .await?
        .ok_or_else(|| format!("{css} has no {attr}"))?;
    Ok(value.parse()?)
}

#[tokio::test]
async fn the_cost_lab_prices_what_the_other_labs_measured() -> Result<()> {
    let app = App::start().await?;
    app.wait_ready().await?;
    let options = match run_cost_lab(&app).await {
        Ok(n) => n,
        Err(e) => {
            let path = std::env::temp_dir().join("lakelab-cost-failure.png");
            app.screenshot(&path).await?;
            return Err(format!("{e} (screenshot: {})", path.display()).into());
        }
    };
    // Eight stream options from the CDC measurement, six scans from the
    // ladder, and the candidate's two configurations.
    assert_eq!(options, 16);
    let measured = app.text("#cost-measured").await?;
    assert!(measured.contains("core-seconds per event"), "{measured}");
    // Both rates' runs are kept for the fit that separates fixed from
    // per-event cost (whether timing noise lets it is for the unit tests).
    assert!(measured.contains("transactions/s: 200, 800"), "{measured}");
    assert!(measured.contains("5 rungs"), "{measured}");
    // Hourly runs are cheaper than the always-on cluster, and slower.
    let (always, hourly) = ("#cost-option-0", "#cost-option-7");
    assert!(
        number(&app, hourly, "data-cost-day").await?
            < number(&app, always, "data-cost-day").await?
    );
    assert!(
        number(&app, hourly, "data-latency").await? > number(&app, always, "data-latency").await?
    );
    assert!(number(&app, "#cost-break-even", "data-minutes").await? > 0.0);
    // A day per option, drawn when its row is chosen.
    app.click("#cost-option-1").await?;
    let day = app.text("#cost-day h3").await?;
    assert!(day.contains("autoscale"), "{day}");

    // A configuration of one's own: Photon changes its price; zero workers
    // is refused next to the form, and its last valid version stays priced.
    let mine = "#cost-option-14";
    let plain = number(&app, mine, "data-cost-day").await?;
    app.click("#cost-card-a input.photon").await?;
    let photon = app
        .wait_for("Photon priced", lakelab_e2e::STATEMENT, || async {
            let day = number(&app, mine, "data-cost-day").await?;
            Ok(Some(day).filter(|d| *d != plain))
        })
        .await?;
    app.client
        .execute(
            "const i = document.querySelector('#cost-card-a .workers input');              i.value = '0'; i.dispatchEvent(new Event('change'));",
            vec![],
        )
        .await?;
    let refused = app
        .wait_for("the workers error", lakelab_e2e::STATEMENT, || async {
            app.try_find("#cost-card-a .field-error").await
        })
        .await?
        .text()
        .await?;
    assert!(refused.contains("workers"), "{refused}");
    assert_eq!(number(&app, mine, "data-cost-day").await?, photon);

    // The second configuration prices a measured rung's scan instead, with
    // a latency target of its own.
    let theirs = "#cost-option-15";
    let attr_is = |name: &'static str, want: &'static str| {
        let app = &app;
        async move {
            app.wait_for(
                &format!("{theirs} {name}={want}"),
                lakelab_e2e::STATEMENT,
                || async { Ok(app.attr(theirs, name).await?.filter(|v| v == want)) },
            )
            .await
        }
    };
    choose(&app, "#cost-card-b select.workload", "scan").await?;
    attr_is("data-kind", "scan").await?;
    choose(&app, "#cost-card-b select.rung", "zordered").await?;
    choose(&app, "#cost-card-b .runs-per-day input", "48").await?;
    choose(&app, "#cost-card-b .target input", "0.001").await?;
    attr_is("data-meets", "no").await?;
    choose(&app, "#cost-card-b .target input", "1000").await?;
    attr_is("data-meets", "yes").await?;
    assert!(
        app.text(theirs)
            .await?
            .contains("mine: processingTime 60 s")
    );

    // A negative price is refused next to its field; the prices stay.
    let before = number(&app, always, "data-cost-day").await?;
    app.click("#cost-prices summary").await?;
    app.client
        .execute(
            "const t = document.querySelector('#cost-prices textarea'); \
             t.value = t.value.replace(/\"value\": 0\\.15,/, '\"value\": -1,'); \
             t.dispatchEvent(new Event('input'));",
            vec![],
        )
        .await?;
    app.click("#cost-prices button.apply").await?;
    let error = app
        .wait_for("the price error", lakelab_e2e::STATEMENT, || async {
            app.try_find("#cost-prices .field-error").await
        })
        .await?
        .text()
        .await?;
    assert!(error.contains("dbu_rates"), "{error}");
    assert_eq!(number(&app, always, "data-cost-day").await?, before);

    // The slow report's rungs at 10 TB, with their measured accuracy.
    let final_rows = app
        .client
        .find_all(fantoccini::Locator::Css("#cost-final tbody tr"))
        .await?;
    // Six measured scans and the second configuration's.
    assert_eq!(final_rows.len(), 7);
    assert!(app.text("#cost-final").await?.contains("exact"));

    // After a reload: the measurements and the configuration's edits are kept.
    app.client.refresh().await?;
    app.wait_ready().await?;
    app.click("#nav-lab-cost").await?;
    app.wait_for(
        "the options priced again",
        lakelab_e2e::STATEMENT,
        || async {
            Ok(app
                .attr("#cost-status", "data-state")
                .await?
                .filter(|s| s == "priced"))
        },
    )
    .await?;
    let photon = app
        .client
        .execute(
            "return document.querySelector('#cost-card-a input.photon').checked;",
            vec![],
        )
        .await?;
    assert_eq!(photon, serde_json::Value::Bool(true));
    let workload = app
        .client
        .execute(
            "return document.querySelector('#cost-card-b select.workload').value;",
            vec![],
        )
        .await?;
    assert_eq!(workload, serde_json::Value::String("scan".into()));
    app.close().await
}
