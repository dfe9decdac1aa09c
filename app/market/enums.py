"""The kinds of a market record (English codes, Chinese labels registered with app.enums)."""

from __future__ import annotations

from ..enums import _LABELS, LabelledEnum


class MarketKind(LabelledEnum):
    EQUITY_TRANSFER = "equity_transfer"  # 股权转让
    LAND_TRANSFER = "land_transfer"  # 土地转让
    FACTORY_TRANSFER = "factory_transfer"  # 厂房转让
    LEASE = "lease"  # 出租


class AreaBasis(LabelledEnum):
    LAND = "land"  # 土地面积
    FLOOR = "floor"  # 建筑面积


class FlagKind(LabelledEnum):
    CLEAR_OUT = "clear_out"  # 涉及整治清退企业
    GRADE_D = "grade_d"  # 涉及亩均评价 D 档企业
    INDUSTRY = "industry"  # 承租方行业不符合产业导向
    UNREGISTERED_TENANT = "unregistered_tenant"  # 未登记的厂中厂


_LABELS.update({
    MarketKind: {
        MarketKind.EQUITY_TRANSFER: "股权转让",
        MarketKind.LAND_TRANSFER: "土地转让",
        MarketKind.FACTORY_TRANSFER: "厂房转让",
        MarketKind.LEASE: "出租",
    },
    AreaBasis: {AreaBasis.LAND: "土地面积", AreaBasis.FLOOR: "建筑面积"},
    FlagKind: {
        FlagKind.CLEAR_OUT: "涉及整治清退企业",
        FlagKind.GRADE_D: "涉及亩均 D 档企业",
        FlagKind.INDUSTRY: "不符合产业导向",
        FlagKind.UNREGISTERED_TENANT: "未登记厂中厂",
    },
})
