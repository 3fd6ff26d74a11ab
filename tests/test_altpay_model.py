"""The Part E model: hand-checked cases, monotonicity, the double count avoided, the write-up."""

import pandas as pd
import pytest

from labkit import altpay


@pytest.fixture(scope="module")
def data():
    return altpay.load_data()


@pytest.fixture(scope="module")
def reference_retailer():
    """The course reference's reading: mobile revenue $7.5M of $15M (50%), margin 40%, AOV $125."""
    return altpay.Retailer(mobile_revenue_share=0.5)


# ---------------------------------------------------------------- hand-checked cases
def test_wallet_by_hand(reference_retailer, data):
    # f = f_card = 2.9% + $0.30/$125 = 3.14%; B = $7.5M; ℓ = 5%:
    # ΔR = 375,000; ΔFees = 375,000 × 3.14% = 11,775; ΔGP = 0.40 × 375,000 − 11,775 = 138,225
    e = altpay.estimate(reference_retailer, "wallet", data=data)
    assert e.reachable == pytest.approx(7_500_000)
    assert e.fee_rate == pytest.approx(0.0314)
    assert e.delta_revenue == pytest.approx(375_000)
    assert e.delta_fees == pytest.approx(11_775)
    assert e.base == pytest.approx(138_225)
    # ℓ = 2% and 10%: 0.3686 × 150,000 and 0.3686 × 750,000
    assert (e.low, e.high) == (pytest.approx(55_290), pytest.approx(276_450))


def test_affirm_by_hand(reference_retailer, data):
    # f = 6% + 0.24% = 6.24%; ℓ = 3%: ΔR = 450,000; V = 5% × 15,450,000 = 772,500;
    # ΔFees = 772,500 × 3.10% + 450,000 × 3.14% = 23,947.50 + 14,130 = 38,077.50;
    # ΔGP = 180,000 − 38,077.50 = 141,922.50
    e = altpay.estimate(reference_retailer, "affirm", data=data)
    assert e.delta_revenue == pytest.approx(450_000)
    assert e.delta_fees == pytest.approx(38_077.50)
    assert e.base == pytest.approx(141_922.50)
    # ℓ = 1%: 60,000 − (757,500 × 3.1% + 150,000 × 3.14%) = 31,807.50
    assert e.low == pytest.approx(31_807.50)
    assert e.high == pytest.approx(307_095.0)


def test_stablecoin_by_hand(reference_retailer, data):
    # f = 1.5% (no fixed fee): at ℓ = 0 the switched volume 0.5% × $15M = 75,000 saves
    # 75,000 × (3.14% − 1.5%) = 1,230; at ℓ = 0.5%: ΔR = 75,000, V = 75,375,
    # ΔGP = 30,000 − (75,375 × −1.64% + 75,000 × 3.14%) = 30,000 − (−1,236.15 + 2,355) = 28,881.15
    e = altpay.estimate(reference_retailer, "usdc_stripe", data=data)
    assert e.low == pytest.approx(1_230)
    assert e.high == pytest.approx(28_881.15)


def test_reference_ranges_are_reproduced(reference_retailer, data):
    """pci_and_payments.md: wallets ~$55k–$276k (base $138k), BNPL ~$32k–$307k (base $142k),
    crypto ~$1k–$29k, before integration cost."""
    t = altpay.compare(reference_retailer, data=data)
    k = lambda x: round(x / 1e3)  # noqa: E731
    assert (k(t.loc["wallet", "low"]), k(t.loc["wallet", "base"]), k(t.loc["wallet", "high"])) == (55, 138, 276)
    bnpl = t[t.group == "bnpl"]
    assert set(bnpl["low"].map(k)) == {32} and set(bnpl["base"].map(k)) == {142} and set(bnpl["high"].map(k)) == {307}
    crypto = t[t.group == "crypto"]
    assert crypto["low"].map(k).between(1, 2).all() and crypto["high"].map(k).between(28, 29).all()


def test_default_retailer_takes_adobes_share_and_derives_the_rest():
    r = altpay.Retailer()
    assert r.mobile_revenue_share == pytest.approx(0.43)  # Adobe Analytics, $10M-$100M retailers
    # implied conversion ratio c = s(1 - t) / (t k (1 - s)) = 0.43 × 0.35 / (0.65 × 0.68 × 0.57)
    c = 0.1505 / 0.25194
    assert r.mobile_conversion_factor == pytest.approx(c)
    # more mobile visits at that conversion ratio: 0.8 × 0.68 × c / (0.8 × 0.68 × c + 0.2)
    assert r.with_(mobile_traffic_share=0.8).mobile_revenue_share == pytest.approx(0.544 * c / (0.544 * c + 0.2))
    # converting alike gives the kit's former reading, 0.442 / 0.792 = 55.8%
    assert r.with_(mobile_conversion_factor=1.0).mobile_revenue_share == pytest.approx(0.442 / 0.792)
    lower = r.with_(mobile_revenue_share=0.3)
    assert lower.mobile_revenue_share == 0.3 and lower.mobile_conversion_factor < c
    low, base, high = altpay.mobile_share_range(r)
    assert base == pytest.approx(0.43)
    assert low == pytest.approx(0.442 * 0.4 / (0.442 * 0.4 + 0.35)) and high == pytest.approx(0.442 / 0.792)
    with pytest.raises(ValueError, match="gross_margin"):
        altpay.Retailer(gross_margin=1.5)


def test_group_estimate_is_its_best_method(data):
    r = altpay.Retailer()
    best = altpay.estimate(r, "bnpl", data=data)
    members = [altpay.estimate(r, m, data=data).base for m in ("affirm", "klarna", "afterpay")]
    assert best.base == max(members)
    with pytest.raises(ValueError):
        altpay.estimate(r, "card", data=data)
    with pytest.raises(KeyError):
        altpay.estimate(r, "paypal", data=data)


# ---------------------------------------------------------------- monotonic
@pytest.mark.parametrize("method", ["wallet", "affirm", "usdc_stripe", "bitpay"])
def test_profit_rises_with_lift(method, data):
    s = altpay.sensitivity(altpay.Retailer(), method, "lift", [0, 0.005, 0.01, 0.02, 0.05, 0.1], data=data)
    assert s["delta_gp"].is_monotonic_increasing and s["delta_gp"].diff().dropna().gt(0).all()


@pytest.mark.parametrize("method", ["wallet", "klarna", "coinbase"])
def test_profit_falls_with_fees(method, data):
    r = altpay.Retailer()
    pct = altpay.sensitivity(r, method, "fee_pct", [1, 2, 4, 6, 8], data=data)["delta_gp"]
    assert pct.diff().dropna().lt(0).all()
    fixed = [altpay.estimate(r, method, fee_fixed=x, data=data).base for x in (0, 0.3, 0.6)]
    assert fixed[0] > fixed[1] > fixed[2]


def test_break_even_lift_gives_zero_profit(data):
    r = altpay.Retailer()
    e = altpay.estimate(r, "klarna", data=data)
    assert 0 < e.break_even_lift < e.lift[1]
    assert altpay.estimate(r, "klarna", lift=e.break_even_lift, data=data).base == pytest.approx(0, abs=1e-6)


# ---------------------------------------------------------------- the double count avoided
def test_sales_that_would_happen_anyway_cost_only_the_fee_difference(data):
    r = altpay.Retailer()
    e = altpay.estimate(r, "affirm", lift=0.0, data=data)
    expected = -e.adoption * r.revenue * (e.fee_rate - e.card_fee_rate)
    assert e.base == pytest.approx(expected)  # no margin credited, and only Δf charged
    # a method priced like a card and bringing no extra sales changes nothing, whatever its share
    for a in (0.1, 0.5, 1.0):
        assert altpay.estimate(r, "wallet", lift=0.0, adoption=a, data=data).base == pytest.approx(0)


def test_extra_revenue_is_charged_its_fee_once(data):
    r = altpay.Retailer()
    # fee equal to the card's and everyone paying with it: ΔFees = ΔR × f_card, not twice
    e = altpay.estimate(r, "wallet", lift=0.04, adoption=1.0, data=data)
    assert e.delta_fees == pytest.approx(e.delta_revenue * e.card_fee_rate)
    assert e.base == pytest.approx(e.delta_revenue * (r.gross_margin - e.card_fee_rate))


def test_vendor_order_value_claims_do_not_enter_the_model(data):
    r = altpay.Retailer()
    inflated = data.methods.copy()
    inflated["aov_lift_pct_low"] = 500.0
    inflated["aov_lift_pct_high"] = 900.0
    e1 = altpay.estimate(r, "afterpay", data=data)
    e2 = altpay.estimate(r, "afterpay", data=altpay.AltPayData(inflated, data.assumptions))
    assert e1.base == e2.base


def test_the_handout_shortcut_differs_from_the_model(data):
    r = altpay.Retailer()
    # α·R·(0 + 40%)·g − α·R·f for Klarna: 750,000 × 0.4 × 0.4 − 750,000 × (5.99% + 0.24%)
    assert altpay.naive_estimate(r, "klarna", data=data) == pytest.approx(120_000 - 750_000 * 0.0623)
    assert altpay.naive_estimate(r, "klarna", data=data) != pytest.approx(altpay.estimate(r, "klarna", data=data).base)


# ---------------------------------------------------------------- tables
def test_compare_recommends_two_methods_from_different_groups(data):
    t = altpay.compare(data=data)
    assert "card" not in t.index
    assert (t["low"] <= t["base"]).all() and (t["base"] <= t["high"]).all()
    picks = altpay.recommend(t)
    assert len(picks) == 2 and t.loc[picks, "group"].nunique() == 2
    assert t.loc[picks[0], "base"] == t["base"].max()
    assert t.groupby("group")["best_in_group"].sum().eq(1).all()


def test_overrides_change_the_ranking(data):
    # at Adobe's 43% mobile share BNPL (Klarna) comes first; with the wallet lift doubled wallets do
    base = altpay.compare(data=data)
    assert altpay.recommend(base)[0] == "klarna"
    t = altpay.compare(overrides={"wallet": {"lift": (0.04, 0.10, 0.20)}}, data=data)
    assert altpay.recommend(t)[0] == "wallet"
    # so does a mobile share near the high end of its range (mobile converting like desktop)
    assert altpay.recommend(altpay.compare(altpay.Retailer(mobile_revenue_share=0.56), data=data))[0] == "wallet"


def test_a_methods_own_override_wins_over_its_groups(data):
    t = altpay.compare(overrides={"bnpl": {"fee_pct": 9.0}, "klarna": {"fee_pct": 5.5}}, data=data)
    assert t.loc["klarna", "fee_pct"] == 5.5 and t.loc["affirm", "fee_pct"] == 9.0
    assert t.loc["klarna", "base"] > altpay.compare(data=data).loc["klarna", "base"]


def test_sensitivity_table_covers_the_levers(data):
    st = altpay.sensitivity_table(altpay.Retailer(), "bnpl", data=data)
    assert {"lift", "adoption", "fee_pct", "gross_margin", "aov", "integration_cost"} <= set(st["parameter"])
    assert st["swing"].is_monotonic_decreasing
    assert st.iloc[0]["parameter"] == "lift"  # the assumption that matters most
    row = st.set_index("parameter").loc["fee_pct"]
    assert (row["low"], row["high"]) == (pytest.approx(4.0), pytest.approx(8.0))
    assert row["gp_at_low"] > row["gp_at_high"]


# ---------------------------------------------------------------- Part B fee arithmetic
def test_card_fee_baseline_counts_succeeded_usd_payments_only(data):
    payments = pd.DataFrame({
        "amount": [1800, 900, 450, 1800, 5000],
        "currency": ["usd", "usd", "USD", "usd", "eur"],
        "status": ["succeeded", "requires_payment_method", "succeeded", "canceled", "succeeded"],
    })
    b = altpay.card_fee_baseline(payments, data=data)
    assert b.attrs["ignored"] == 3
    assert b.loc["card", "payments"] == 2 and b.loc["card", "volume_usd"] == 22.50
    # card: 2.9% × $18 + $0.30 = $0.822 → $0.82; 2.9% × $4.50 + $0.30 = $0.4305 → $0.43
    assert b.loc["card", "fee_usd"] == pytest.approx(1.25)
    # Coinbase 1%, no fixed fee: $0.18 + $0.045 (→ $0.05) = $0.23
    assert b.loc["coinbase", "fee_usd"] == pytest.approx(0.23)
    assert b.loc["coinbase", "vs_card_usd"] == pytest.approx(-1.02)
    assert b.loc["wallet", "vs_card_usd"] == 0


def test_as_payments_accepts_other_column_names():
    p = altpay.as_payments([{"amt": 1800, "cur": "USD", "st": "succeeded"}], amount="amt", currency="cur", status="st")
    assert list(p.columns) == ["amount", "currency", "status"] and p.loc[0, "currency"] == "usd"
    with pytest.raises(ValueError, match="lacks"):
        altpay.as_payments(pd.DataFrame({"amount": [1]}))


# ---------------------------------------------------------------- charts and widgets
def test_charts_draw_one_bar_per_method_and_the_lift_curve(data):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    t = altpay.compare(data=data)
    ax = altpay.plot_ranges(t)
    assert len(ax.patches) == len(t)
    assert [tick.get_text().rstrip(" ★") for tick in ax.get_yticklabels()] == list(t["method"][::-1])
    ax2 = altpay.plot_lift_sensitivity(data=data)
    assert ax2.get_title().startswith(t.loc[altpay.recommend(t)[0], "method"])
    x, y = ax2.lines[0].get_data()
    assert len(x) == 16 and all(b > a for a, b in zip(y, y[1:]))
    plt.close("all")
