"""Renewal workflow and governance: block plans and frozen versions, review, enterprises, 厂中厂, 投资履约, audit."""
