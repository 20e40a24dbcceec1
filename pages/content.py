"""Content: the module → unit → lesson → activity tree; admins edit and publish."""

import pandas as pd
import plotly.express as px
import streamlit as st

from core import config, content, display, ui
from core.access import Actor

actor = ui.guard("content.read")
ui.sidebar(actor)

TYPES = ["module", "unit", "lesson", "activity"]


@st.cache_data(ttl=120, show_spinner=False)
def load_tree(url: str, actor: Actor) -> list[dict]:
    return ui.read(content.content_tree, actor=actor) or []


@st.cache_data(ttl=3600, show_spinner=False)
def load_template(key: str, actor: Actor) -> bytes:
    return content.activity_template(actor=actor, key=key)


st.title("Content")
tree = load_tree(config.database_url(), actor)
if not tree:
    ui.empty_state("There is no content yet.", "Run `ngi seed` to load the program's catalogue.")
    st.stop()

totals = content.module_totals(tree)
st.caption("Modules in sequence order; minutes count published lessons and activities only.")
for column, module in zip(st.columns(len(totals)), totals):
    state = "" if module["published"] else " · draft"
    column.metric(f"{module['module']}{state}", f"{module['minutes'] / 60:.1f} h", border=True,
                  help=f"{module['lessons']} lessons, {module['activities']} activities")


def status(node: dict) -> str:
    if not node["published"]:
        return "Draft"
    return "Published" if node["visible"] else "Hidden (parent is a draft)"


frame = pd.DataFrame([
    dict(item=("\u2003" * node["depth"]) + node["title"], type=display.humanize(node["type"]),
         status=status(node), minutes=node["minutes"], prerequisites=node["prerequisite_titles"],
         key=node["key"], description=node["description"])
    for node in tree
])

left, middle, right = st.columns([3, 2, 3])
types = left.pills("Show", TYPES, selection_mode="multi", default=TYPES, key="content_types",
                   format_func={"module": "Modules", "unit": "Units", "lesson": "Lessons",
                                "activity": "Activities"}.get) or []
wanted = middle.selectbox("Status", ["All", "Published", "Draft", "Hidden (parent is a draft)"],
                          key="content_status")
search = right.text_input("Search titles and descriptions", key="content_search").strip().lower()
shown = frame[frame["type"].isin([display.humanize(t) for t in types])]
if wanted != "All":
    shown = shown[shown["status"] == wanted]
if search:
    shown = shown[shown["item"].str.lower().str.contains(search, regex=False)
                  | shown["description"].str.lower().str.contains(search, regex=False)
                  | shown["key"].str.lower().str.contains(search, regex=False)]
if shown.empty:
    ui.empty_state("No item matches these filters.", "Clear the search or pick more types.")
else:
    # The key is an internal id: searchable, never shown. The description takes what the
    # other columns leave, so it stays on screen at 1440 px.
    ui.table(
        shown, height=min(35 * (len(shown) + 1) + 3, 720),
        column_order=["item", "type", "status", "minutes", "description", "prerequisites"],
        column_config={
            "item": st.column_config.TextColumn("Item", width=220),
            "type": st.column_config.TextColumn("Type", width=65), "status": st.column_config.TextColumn("Status", width=90),
            "minutes": st.column_config.NumberColumn("Minutes", format="%d min", width=70),
            "description": st.column_config.TextColumn("Description", width=330),
            "prerequisites": st.column_config.ListColumn("Prerequisites", width=160),
        },
    )

timeline = frame[frame["type"].isin(["lesson", "activity"])].copy()
if not timeline.empty:
    timeline["item"] = timeline["item"].str.strip()
    timeline["minutes"] = timeline["minutes"].fillna(0)
    chart = px.bar(timeline, x="minutes", y="item", color="type", orientation="h",
                   labels={"minutes": "Estimated minutes", "item": "", "type": "Type"},
                   height=32 * len(timeline) + 80)
    chart.update_yaxes(autorange="reversed")
    chart.update_layout(margin=dict(l=0, r=0, t=10, b=0), legend_title_text="")
    with st.expander("Estimated time per lesson and activity"):
        st.plotly_chart(chart, key="content_minutes_chart")

st.subheader("Details")
by_key = {node["key"]: node for node in tree}
choice = st.selectbox("Item", list(by_key), format_func=lambda k: by_key[k]["path"], key="content_item")
node = by_key[choice]
st.markdown(f"**{node['title']}** · {display.humanize(node['type'])} · {status(node)} · "
            f"{display.duration(node['minutes'])}")
st.write(node["description"] or "_No description yet._")
if node["objectives"]:
    st.markdown("Learning objectives:\n" + "\n".join(f"- {o}" for o in node["objectives"]))
if node["prerequisite_titles"]:
    st.caption("Prerequisites: " + ", ".join(node["prerequisite_titles"]))
if node["type"] == "activity":
    st.download_button(
        "Download the template workbook", data=load_template(choice, actor), file_name=f"{choice}_template.xlsx",
        mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", key="content_template",
        help="The sheets and labels this activity's validators look for.",
    )

if not actor.can("content.edit"):
    st.caption("Only admins can edit or publish content.")
    st.stop()


with st.form(f"edit_{choice}"):
    title = st.text_input("Title", value=node["title"], max_chars=content.MAX_TITLE, key=f"title_{choice}")
    description = st.text_area("Description", value=node["description"], key=f"description_{choice}")
    if st.form_submit_button("Save changes"):
        ui.write(content.update_content, key=choice, title=title, description=description, success="Saved.")
if node["published"]:
    if st.button("Unpublish", key="content_unpublish", help="Students stop seeing this item and its children."):
        ui.write(content.set_published, key=choice, published=False, success=f"{node['title']} is now a draft.")
elif st.button("Publish", key="content_publish", type="primary"):
    ui.write(content.set_published, key=choice, published=True, success=f"{node['title']} is published.")
