/* Loopwise web UI behaviour: drag and drop (SortableJS), keyboard triage, dialogs, pickers.
   No inline scripts anywhere: everything is wired here through data-* attributes. */
(function () {
  "use strict";

  // Validation errors (422) and stale edits (409) come back as HTML to show in place.
  htmx.config.responseHandling = [
    { code: "204", swap: false },
    { code: "[23]..", swap: true },
    { code: "409", swap: true, error: false },
    { code: "422", swap: true, error: false },
    { code: "429", swap: true, error: false },
    { code: "[45]..", swap: false, error: true },
  ];

  function csrf() {
    return document.body.dataset.csrf || "";
  }

  function toast(message) {
    var el = document.getElementById("toast");
    if (!el) return;
    el.textContent = message;
    el.hidden = false;
    clearTimeout(el._timer);
    el._timer = setTimeout(function () { el.hidden = true; }, 4000);
  }

  function post(url, fields) {
    var body = new URLSearchParams();
    Object.keys(fields).forEach(function (k) { body.append(k, fields[k]); });
    return fetch(url, {
      method: "POST",
      body: body,
      credentials: "same-origin",
      headers: { "X-CSRFToken": csrf(), "X-Loopwise-Drag": "1", "HX-Request": "true" },
    });
  }

  document.body.addEventListener("htmx:responseError", function (evt) {
    var text = (evt.detail.xhr && evt.detail.xhr.responseText) || "";
    toast(evt.detail.xhr.status === 403 ? "Your role does not allow that." : (text.length < 200 && text) || "That did not work.");
  });

  // --- Backlog: drag to rank ---------------------------------------------------------
  function initBacklog(root) {
    root.querySelectorAll("[data-sortable='backlog']").forEach(function (tbody) {
      if (tbody._sortable || !window.Sortable) return;
      tbody._sortable = Sortable.create(tbody, {
        handle: ".handle",
        animation: 120,
        forceFallback: true,
        onEnd: function (evt) {
          if (evt.oldIndex === evt.newIndex) return;
          var row = evt.item;
          var fields = { item: row.dataset.id };
          var next = row.nextElementSibling;
          var prev = row.previousElementSibling;
          if (next && next.dataset.id) fields.before = next.dataset.id;
          else if (prev && prev.dataset.id) fields.after = prev.dataset.id;
          else return;
          row.classList.add("saving");
          post(tbody.dataset.moveUrl, fields).then(function (resp) {
            row.classList.remove("saving");
            if (!resp.ok) {
              resp.text().then(function (t) { toast(t || "Could not move the item."); });
              htmx.ajax("GET", window.location.href, { target: "#backlog-list", swap: "outerHTML" });
            } else {
              row.classList.add("moved");
              setTimeout(function () { row.classList.remove("moved"); }, 800);
            }
          });
        },
      });
    });
  }

  // --- Planning: drag between backlog and sprint -------------------------------------
  function initPlanning(root) {
    root.querySelectorAll("[data-plan-list]").forEach(function (list) {
      if (list._sortable || !window.Sortable || !list.dataset.planUrl) return;
      list._sortable = Sortable.create(list, {
        group: "plan",
        handle: ".handle",
        filter: ".empty-state",
        sort: false,
        animation: 120,
        forceFallback: true,
        onAdd: function (evt) {
          var toSprint = evt.to.dataset.planList === "sprint";
          var hint = evt.to.querySelector(".empty-state");
          if (hint) hint.remove();
          post(evt.to.dataset.planUrl, { item: evt.item.dataset.id, op: toSprint ? "add" : "remove" }).then(function (resp) {
            if (!resp.ok) {
              resp.text().then(function (t) { toast(t || "Could not plan the item."); });
            }
            htmx.ajax("GET", window.location.href, { target: "#planning-board", swap: "outerHTML", select: "#planning-board" });
            htmx.trigger(document.body, "planning-changed");
          });
        },
      });
    });
  }

  // --- Board: drag a card to another status ------------------------------------------
  function placeCard(card) {
    var column = card.closest("[data-board-column]");
    if (column && column.dataset.boardColumn !== card.dataset.status) {
      var target = document.querySelector("[data-board-column='" + card.dataset.status + "']");
      if (target) target.prepend(card);
    }
    updateCounts();
  }

  function updateCounts() {
    document.querySelectorAll(".board-column").forEach(function (col) {
      var count = col.querySelector(".count");
      if (count) count.textContent = col.querySelectorAll(".board-card").length;
    });
  }

  function initBoard(root) {
    root.querySelectorAll("[data-board-column]").forEach(function (list) {
      if (list._sortable || !window.Sortable) return;
      list._sortable = Sortable.create(list, {
        group: "board",
        sort: false, // the order inside a column is the backlog rank, changed in the backlog
        animation: 120,
        forceFallback: true,
        filter: "select, a",
        preventOnFilter: false,
        onAdd: function (evt) {
          var card = evt.item;
          if (!card.dataset.quickUrl) return;
          card.classList.add("saving");
          post(card.dataset.quickUrl, { version: card.dataset.version, status: evt.to.dataset.boardColumn, view: "board" })
            .then(function (resp) {
              if (resp.status === 403) toast("Your role does not allow moving cards.");
              return resp.text().then(function (html) { return { ok: resp.ok, html: html }; });
            })
            .then(function (result) {
              var tpl = document.createElement("template");
              tpl.innerHTML = result.html.trim();
              var fresh = tpl.content.firstElementChild;
              if (fresh && fresh.classList.contains("board-card")) {
                card.replaceWith(fresh);
                htmx.process(fresh);
                placeCard(fresh);
              } else {
                window.location.reload();
              }
            });
        },
      });
    });
  }

  // --- Small behaviours ----------------------------------------------------------------
  document.addEventListener("click", function (evt) {
    var opener = evt.target.closest("[data-dialog-open]");
    if (opener) {
      var dialog = document.getElementById(opener.dataset.dialogOpen);
      if (dialog) dialog.showModal();
      return;
    }
    var closer = evt.target.closest("[data-dialog-close]");
    if (closer) {
      closer.closest("dialog").close();
      return;
    }
    if (evt.target.closest("[data-print]")) {
      window.print();
      return;
    }
    var pick = evt.target.closest("[data-pick]");
    if (pick) {
      var form = pick.closest("form");
      form.querySelector("[data-picked]").value = pick.dataset.pick;
      form.querySelector("[data-picked-label]").textContent = "Picked: " + pick.dataset.pickLabel;
      form.querySelectorAll("[data-pick]").forEach(function (b) { b.setAttribute("aria-selected", b === pick ? "true" : "false"); });
      var next = form.querySelector("[data-quote-target]") || form.querySelector("button[type=submit]");
      if (next) next.focus();
      return;
    }
    var row = evt.target.closest("[data-feedback-row]");
    if (row && !evt.target.closest("a")) selectRow(row, false);
  });

  document.addEventListener("change", function (evt) {
    if (evt.target.matches("[data-autosubmit]")) evt.target.form.submit();
    if (evt.target.matches("[data-navigate]")) window.location.href = evt.target.value;
  });

  document.body.addEventListener("htmx:afterRequest", function (evt) {
    var elt = evt.detail.elt;
    if (elt && elt.matches && elt.matches("[data-reset-on-success]") && evt.detail.successful && evt.detail.xhr.status < 300) {
      elt.reset();
      var first = elt.querySelector("input[type=text], input:not([type])");
      if (first) first.focus();
    }
  });

  // --- Inbox: keyboard triage -----------------------------------------------------------
  var selected = null;

  function rows() {
    return Array.prototype.slice.call(document.querySelectorAll("[data-feedback-row]"));
  }

  function selectRow(row, load) {
    if (selected) {
      selected.classList.remove("selected");
      selected.removeAttribute("aria-current");
    }
    selected = row;
    row.classList.add("selected");
    row.setAttribute("aria-current", "true");
    row.scrollIntoView({ block: "nearest" });
    if (load) htmx.trigger(row, "select-row");
  }

  function move(step) {
    var all = rows();
    if (!all.length) return;
    var current = selected ? all.indexOf(document.getElementById(selected.id)) : -1;
    var next = Math.max(0, Math.min(all.length - 1, current + step));
    if (current === -1) next = 0;
    selectRow(all[next], true);
  }

  function openAction(id, focusSelector) {
    var details = document.getElementById(id);
    if (!details) return;
    var quoted = String(window.getSelection ? window.getSelection() : "").trim();
    document.querySelectorAll(".triage-actions details").forEach(function (d) { d.open = d === details; });
    var quote = details.querySelector("[data-quote-target]");
    if (quote && quoted) quote.value = quoted;
    var focus = details.querySelector(focusSelector);
    if (focus) focus.focus();
  }

  // htmx wires up freshly swapped content when it settles; act on the detail only after that.
  function whenSettled(fn) {
    var detail = document.getElementById("inbox-detail");
    var busy = detail && (detail.classList.contains("htmx-request") || detail.classList.contains("htmx-swapping") ||
      detail.classList.contains("htmx-settling") || detail.querySelector(".htmx-added"));
    if (!busy) return fn();
    detail.addEventListener("htmx:afterSettle", function once() {
      detail.removeEventListener("htmx:afterSettle", once);
      fn();
    });
  }

  // Pickers: arrow keys walk from the search box through the results; Enter picks (a button).
  document.addEventListener("keydown", function (evt) {
    var inPicker = evt.target.closest && (evt.target.closest(".picker") || evt.target.matches("[hx-target^='#item-results'], [hx-target^='#dup-results']"));
    if (!inPicker || (evt.key !== "ArrowDown" && evt.key !== "ArrowUp")) return;
    var form = evt.target.closest("form");
    var picks = Array.prototype.slice.call(form.querySelectorAll("[data-pick]"));
    if (!picks.length) return;
    var index = picks.indexOf(evt.target);
    var next = evt.key === "ArrowDown" ? index + 1 : index - 1;
    if (next < 0) form.querySelector("input[type=search]").focus();
    else picks[Math.min(next, picks.length - 1)].focus();
    evt.preventDefault();
  });

  // Ctrl+Enter (or Cmd+Enter) in a triage text field submits its form.
  document.addEventListener("keydown", function (evt) {
    if (evt.key !== "Enter" || !(evt.ctrlKey || evt.metaKey)) return;
    var form = evt.target.closest && evt.target.closest("#inbox-detail form");
    if (form) {
      evt.preventDefault();
      form.requestSubmit();
    }
  });

  document.addEventListener("keydown", function (evt) {
    if (!document.querySelector("[data-inbox-list]")) return;
    var tag = (evt.target.tagName || "").toLowerCase();
    if (tag === "input" || tag === "textarea" || tag === "select" || evt.target.isContentEditable) {
      if (evt.key === "Escape") evt.target.blur();
      return;
    }
    if (evt.ctrlKey || evt.metaKey || evt.altKey) return;
    switch (evt.key) {
      case "j": move(1); break;
      case "k": move(-1); break;
      case "l": whenSettled(function () { openAction("act-link", "#item-search"); }); break;
      case "c": whenSettled(function () { openAction("act-create", "input[name=title]"); }); break;
      case "d": whenSettled(function () { openAction("act-duplicate", "#dup-search"); }); break;
      case "x":
        whenSettled(function () {
          var dismiss = document.getElementById("act-dismiss");
          if (dismiss) dismiss.click();
        });
        break;
      case "?": {
        var help = document.getElementById("help-dialog");
        if (help) help.showModal();
        break;
      }
      default: return;
    }
    evt.preventDefault();
  });

  // After an action re-renders the row out of band, keep it selected.
  document.body.addEventListener("htmx:oobAfterSwap", function (evt) {
    var row = evt.detail.target;
    if (row && selected && row.id === selected.id) {
      selected = row;
      row.classList.add("selected");
    }
  });

  htmx.onLoad(function (root) {
    initBacklog(root.querySelectorAll ? root : document);
    initPlanning(root.querySelectorAll ? root : document);
    initBoard(root.querySelectorAll ? root : document);
    if (root.classList && root.classList.contains("board-card")) placeCard(root);
  });
})();
