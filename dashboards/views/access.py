"""Your access: who the dashboard takes you to be, and what your role may see and do."""

from __future__ import annotations

import common
import pandas as pd
import streamlit as st
from wording import plain

from graphguard.access import Permission

who = common.acting_identity()
row = who.row
st.title("Your access")
st.markdown(
    f"You are **{plain(who.user)}**, in the role **{who.role.spoken}**"
    + (f", for **{plain(who.agency)}**" if who.agency else "")
    + (" (signed in)." if who.via == "oidc" else " (the operating-system user, local mode).")
)
st.caption(plain(row.summary))
st.markdown(f"**Whose records you see:** {row.scope}.")
st.dataframe(
    pd.DataFrame(
        [{"permission": str(p), "yours": "yes" if p in row.permissions else ""} for p in Permission]
    ),
    hide_index=True,
)
st.caption(
    "What each role may see and do is one matrix (docs/access.md). A page your role may "
    "not use is not in the menu; every refusal is recorded in the audit log."
)
