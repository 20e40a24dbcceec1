"""Content: the module → unit → lesson → activity tree; admins edit and publish."""

import pandas as pd
import plotly.express as px
import streamlit as st

from core import authoring, config, content, content_history, content_tree, curriculum, display, prerequisites, ui
from core.access import Actor
from core.rules import (
    CHECK_PARAMS,
    MAX_WORDS,
    PDF_LABELS,
    PDF_SECTIONS,
    PDF_TYPES,
    SUBMISSION_LABELS,
    SUBMISSION_TYPES,
    ActivityRules,
    Check,
    Criterion,
    PdfContent,
    PdfRequirements,
)

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
    if node.get("archived"):
        return "Archived"
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
# A move reorders the options, which makes a new widget; the last choice carries over.
last = st.session_state.get("content_last_item")
choice = st.selectbox("Item", list(by_key), format_func=lambda k: by_key[k]["path"], key="content_item",
                      index=list(by_key).index(last) if last in by_key else 0)
st.session_state["content_last_item"] = choice
node = by_key[choice]
st.markdown(f"**{node['title']}** · {display.humanize(node['type'])} · {status(node)} · "
            f"{display.duration(node['minutes'])}")
st.write(node["description"] or "_No description yet._")
if node["objectives"]:
    st.markdown("Learning objectives:\n" + "\n".join(f"- {o}" for o in node["objectives"]))
if node["prerequisite_titles"]:
    st.caption("Prerequisites: " + ", ".join(node["prerequisite_titles"]))
if node["type"] == "activity" and content.has_template(choice):
    st.download_button(
        "Download the template workbook", data=load_template(choice, actor), file_name=f"{choice}_template.xlsx",
        mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", key="content_template",
        help="The sheets and labels this activity's validators look for.",
    )

if not actor.can("content.edit"):
    st.caption("Only admins can edit or publish content.")
    st.stop()


# --- authoring (admins) -------------------------------------------------------------
CONFIRM = "content_confirm"


def ask_first(action: str, label: str, run) -> None:
    """Act at once when nothing else is affected; otherwise say what is and wait for a confirm."""
    imp = ui.read(authoring.preview_impact, actor=actor, key=choice)
    if imp and imp["message"]:
        st.session_state[CONFIRM] = (action, choice, imp["message"], label)
        st.rerun()
    run(False)


def confirm_box() -> None:
    pending = st.session_state.get(CONFIRM)
    if not pending or pending[1] != choice:
        return
    action, _key, message, label = pending
    st.warning(f"{message}. {label}?")
    yes, no = st.columns(2)
    if yes.button(f"Yes, {action}", key="content_confirm_yes", type="primary"):
        del st.session_state[CONFIRM]
        ACTIONS[action](True)
    if no.button("Cancel", key="content_confirm_no"):
        del st.session_state[CONFIRM]
        st.rerun()


ACTIONS = {
    "unpublish": lambda ok: ui.write(authoring.set_published, key=choice, published=False, confirm=ok,
                                     success=f"{node['title']} is now a draft."),
    "archive": lambda ok: ui.write(authoring.archive_node, key=choice, archived=True, confirm=ok,
                                   success=f"{node['title']} is archived."),
    "delete": lambda ok: ui.write(authoring.delete_node, key=choice, confirm=ok,
                                  success=f"{node['title']} is deleted."),
}

confirm_box()
edit_tab, outline_tab, rules_tab, prereq_tab, history_tab, io_tab = st.tabs(
    ["Edit", "Outline", "Rules", "Prerequisites", "History", "Import / export"])

with edit_tab:
    title = st.text_input("Title", value=node["title"], max_chars=authoring.MAX_TITLE, key=f"title_{choice}")
    description = st.text_area("Description", value=node["description"], key=f"description_{choice}")
    c1, c2 = st.columns(2)
    minutes = c1.number_input("Estimated minutes", min_value=0, max_value=10_000, step=5,
                              value=node["minutes"] if node["type"] in ("lesson", "activity") else None,
                              key=f"minutes_{choice}", disabled=node["type"] in ("module", "unit"),
                              help="Modules and units show the sum of what they hold.")
    levels = [None, *authoring.DIFFICULTIES]
    difficulty = c2.selectbox("Difficulty", levels, index=levels.index(node["difficulty"]),
                              format_func=lambda d: "—" if d is None else d.capitalize(), key=f"difficulty_{choice}")
    objectives = st.text_area("Learning objectives (one per line)", value="\n".join(node["objectives"]),
                              key=f"objectives_{choice}")
    body = node["body"]
    if node["type"] == "lesson":
        write_col, preview_col = st.columns(2)
        body = write_col.text_area("Lesson body (Markdown)", value=node["body"], height=300, key=f"body_{choice}")
        with preview_col.container(border=True, height=340):
            st.markdown(body or "_The rendered lesson appears here._")
    if st.button("Save changes", key="content_save", type="primary"):
        fields = dict(title=title, description=description, difficulty=difficulty,
                      objectives=objectives.splitlines(), body=body)
        if node["type"] in ("lesson", "activity"):
            fields["minutes"] = None if minutes is None else int(minutes)
        ui.write(authoring.edit_node, key=choice, success="Saved.", **fields)
    p1, p2, p3 = st.columns(3)
    if node["published"]:
        if p1.button("Unpublish", key="content_unpublish", help="Students stop seeing this item and its children."):
            ask_first("unpublish", "Unpublish it", ACTIONS["unpublish"])
    elif p1.button("Publish", key="content_publish", type="primary"):
        ui.write(authoring.set_published, key=choice, published=True, success=f"{node['title']} is published.")
    if node["archived"]:
        if p2.button("Bring back from the archive", key="content_unarchive"):
            ui.write(authoring.archive_node, key=choice, archived=False, success=f"{node['title']} is back.")
    elif p2.button("Archive", key="content_archive", help="Keeps it and its submissions; students stop seeing it."):
        ask_first("archive", "Archive it", ACTIONS["archive"])
    if p3.button("Delete", key="content_delete", help="Only for items nobody has submitted to."):
        ask_first("delete", "Delete it and everything under it", ACTIONS["delete"])

with outline_tab:
    parents_of = {kind: [n for n in tree if n["type"] == want] for kind, want in authoring.PARENT_KIND.items()}
    parent_key = node["parent"]
    order = [n["key"] for n in tree if n["parent"] == parent_key]
    st.caption(f"Currently in: {by_key[parent_key]['path'] if parent_key else 'the top level'} "
               f"(position {order.index(choice) + 1} of {len(order)})")
    index = order.index(choice)
    up, down = st.columns(2)
    if up.button("Move up", key="content_up", disabled=index == 0):
        order[index - 1], order[index] = order[index], order[index - 1]
        ui.write(authoring.reorder, parent_key=parent_key, keys=order, success="Moved up.")
    if down.button("Move down", key="content_down", disabled=index == len(order) - 1):
        order[index + 1], order[index] = order[index], order[index + 1]
        ui.write(authoring.reorder, parent_key=parent_key, keys=order, success="Moved down.")
    if node["type"] != "module":
        with st.form("content_move_form"):
            targets = parents_of[node["type"]]
            target = st.selectbox("Move to", [t["key"] for t in targets], format_func=lambda k: by_key[k]["path"],
                                  key="content_move_parent")
            position = st.number_input("Position (1 is first; 0 puts it last)", min_value=0, value=0,
                                       key="content_move_position")
            if st.form_submit_button("Move"):
                ui.write(authoring.move_node, key=choice, parent_key=target, position=int(position) or None,
                         success=f"{node['title']} moved.")
    st.markdown("**Add an item**")
    kind = st.selectbox("Type", TYPES, key="content_new_type")
    with st.form("content_new_form"):
        parent_options = [None] if kind == "module" else [t["key"] for t in parents_of[kind]]
        new_parent = st.selectbox("Inside", parent_options, key="content_new_parent",
                                  format_func=lambda k: "(top level)" if k is None else by_key[k]["path"])
        new_title = st.text_input("Title", key="content_new_title")
        new_key = st.text_input("Key", key="content_new_key", help="Lower-case letters, digits and underscores.")
        new_position = st.number_input("Position (0 puts it last)", min_value=0, value=0, key="content_new_position")
        if st.form_submit_button("Create as draft"):
            ui.write(authoring.create_node, kind=kind, key=new_key, title=new_title, parent_key=new_parent,
                     position=int(new_position) or None, success=f"{new_title} created as a draft.")

with rules_tab:
    if node["type"] != "activity":
        st.caption("Only activities have rules.")
    else:
        rules = ui.read(content_tree.rules_for, key=choice)
        rules = rules or ActivityRules()
        chosen = st.multiselect("Checks the validators run", list(CHECK_PARAMS), default=rules.check_ids,
                                key=f"rules_checks_{choice}")
        params = {c.id: dict(c.params) for c in rules.checks}
        tolerances = {}
        for check_id in chosen:
            for name in CHECK_PARAMS[check_id]:
                tolerances[(check_id, name)] = st.number_input(
                    f"{check_id}: {name}", min_value=0.0, value=float(params.get(check_id, {}).get(name, 0) or 0),
                    key=f"rules_param_{choice}_{check_id}_{name}", help="0 keeps the validator's default.")
        sheets = st.text_area("Required sheets (one per line)", value="\n".join(rules.required_sheets),
                              key=f"rules_sheets_{choice}")
        st.markdown("**Rubric** (markers score each criterion within its points; weights make 100%)")
        criteria = pd.DataFrame([dict(criterion=c.key, description=c.description, weight=round(c.weight * 100, 4),
                                      low=c.scale[0], high=c.scale[1]) for c in rules.criteria],
                                columns=["criterion", "description", "weight", "low", "high"])
        edited = st.data_editor(criteria, num_rows="dynamic", hide_index=True, key=f"rules_criteria_{choice}",
                                column_config={
                                    "criterion": st.column_config.TextColumn("Criterion"),
                                    "description": st.column_config.TextColumn("Description"),
                                    "weight": st.column_config.NumberColumn("Weight %", min_value=0, max_value=100),
                                    "low": st.column_config.NumberColumn("Lowest points", min_value=0, step=1),
                                    "high": st.column_config.NumberColumn("Highest points", min_value=1, step=1)})
        total = float(edited["weight"].fillna(0).sum()) if not edited.empty else 0.0
        (st.caption if abs(total - 100) < 1e-6 else st.error)(f"Weights add up to {total:g}% (they must make 100%).")
        types = st.multiselect("Accepted submissions", list(SUBMISSION_TYPES), default=list(rules.submission_types),
                               format_func=SUBMISSION_LABELS.get, key=f"rules_types_{choice}")
        content_rules = {}
        for pdf_type in [t for t in types if t in PDF_TYPES]:
            have = rules.pdf.for_type(pdf_type) or PdfContent()
            with st.container(border=True):
                st.markdown(f"**{PDF_LABELS[pdf_type]}** (a PDF must always carry readable text)")
                w, sec, price = st.columns([1, 2, 1])
                content_rules[pdf_type] = PdfContent(
                    min_words=int(w.number_input("Minimum word count", min_value=0, max_value=MAX_WORDS,
                                                 value=have.min_words, key=f"rules_words_{choice}_{pdf_type}")),
                    sections=tuple(sec.multiselect("Required sections", list(PDF_SECTIONS), default=list(have.sections),
                                                   format_func=str.capitalize,
                                                   key=f"rules_sections_{choice}_{pdf_type}")),
                    price_target=price.checkbox("States a price target", value=have.price_target,
                                                key=f"rules_price_{choice}_{pdf_type}"))
        r1, r2, r3 = st.columns(3)
        pdf_required = r1.multiselect("Required PDFs", [t for t in types if t in PDF_TYPES],
                                      default=[t for t in rules.pdf.required if t in types],
                                      format_func=lambda t: PDF_LABELS[t], key=f"rules_pdf_{choice}")
        min_pages = r2.number_input("PDF minimum pages", min_value=0, value=rules.pdf.min_pages,
                                    key=f"rules_pages_{choice}")
        max_pages = r3.number_input("PDF maximum pages (0: no limit)", min_value=0, value=rules.pdf.max_pages or 0,
                                    key=f"rules_max_pages_{choice}")
        blind = st.toggle("Blind marking", value=rules.blind_marking, key=f"rules_blind_{choice}",
                          help="Nobody can reveal who submitted to this activity on the review page.")
        if st.button("Save rules", key="content_save_rules", type="primary"):
            new_rules = ActivityRules(
                required_sheets=tuple(s.strip() for s in sheets.splitlines() if s.strip()),
                checks=tuple(Check(c, tuple(sorted((n, v) for (cid, n), v in tolerances.items() if cid == c and v)))
                             for c in chosen),
                criteria=tuple(Criterion(str(r["criterion"]), str(r["description"] or ""),
                                         float(r["weight"] or 0) / 100, (int(r["low"]), int(r["high"])))
                               for r in edited.fillna({"description": "", "weight": 0, "low": 0, "high": 5})
                               .to_dict("records") if r["criterion"]),
                submission_types=tuple(types),
                pdf=PdfRequirements(tuple(pdf_required), int(min_pages), int(max_pages) or None,
                                    tuple(content_rules.items())),
                blind_marking=blind)
            ui.write(authoring.set_rules, key=choice, rules=new_rules, success="Rules saved.")

with prereq_tab:
    others = [n["key"] for n in tree if n["key"] != choice]
    required = st.multiselect("Requires", others, default=[k for k in node["prerequisites"] if k in others],
                              format_func=lambda k: by_key[k]["path"], key=f"prereq_{choice}")
    if st.button("Save prerequisites", key="content_save_prereq"):
        ui.write(authoring.set_prerequisites, key=choice, requires=required, success="Prerequisites saved.")
    module = node["module"] or choice
    dot = ui.read(prerequisites.graph_for_module, module=module)
    if dot:
        st.graphviz_chart(dot)
        st.caption("Arrows run from a prerequisite to what it unlocks; dashed boxes are hidden from students.")

with history_tab:
    revisions = ui.read(content_history.history, actor=actor, key=choice) or []
    if not revisions:
        st.caption("No changes recorded yet.")
    else:
        st.dataframe(pd.DataFrame([dict(id=r["id"], when=r["at"], who=r["by"], action=r["action"],
                                         changed=", ".join(r["changed"])) for r in revisions]),
                     hide_index=True, width="stretch", key="content_history")
        revision = st.selectbox("Restore the state after", [r["id"] for r in revisions], key="content_restore_id",
                                format_func=lambda i: next(f"#{r['id']} {r['action']} by {r['by']}"
                                                           for r in revisions if r["id"] == i))
        if st.button("Restore", key="content_restore"):
            ui.write(authoring.restore_revision, revision_id=revision, success="Restored.")

with io_tab:
    exported = ui.read(curriculum.export_yaml, actor=actor)
    if exported:
        st.download_button("Export curriculum.yaml", data=exported.encode(), file_name="curriculum.yaml",
                           mime="application/yaml", key="content_export")
    upload = st.file_uploader("Import a curriculum file", type=["yaml", "yml"], key="content_import_file")
    if upload is not None:
        text = upload.getvalue().decode("utf-8", errors="replace")
        check = ui.write(curriculum.import_yaml, text=text, dry_run=True, rerun=False)
        if check is not None and check.problems:
            st.error("The file has problems; nothing was changed:\n\n" + "\n".join(f"- {line}" for line in check.lines()))
        elif check is not None:
            st.info(f"Would create {len(check.created)}, update {len(check.changed)} and delete {len(check.deleted)} "
                    "items.")
            if st.button("Apply the import", key="content_import_apply", type="primary"):
                ui.write(curriculum.import_yaml, text=text, success="Curriculum imported.")
