// The terminal's sign-in and enrolment: 照合情報 through WebAuthn, the card's PIN with it.
// The only script the terminal serves; it talks to this origin only.
"use strict";
(function () {
  const form = document.querySelector("form[data-webauthn]");
  if (!form) { return; }
  const mode = form.dataset.webauthn;  // "login" | "enrol"
  const base = form.dataset.base;
  const shown = document.getElementById("verify-status");

  function dec(s) {
    const b = atob(s.replace(/-/g, "+").replace(/_/g, "/") + "===".slice((s.length + 3) % 4));
    return Uint8Array.from(b, function (c) { return c.charCodeAt(0); }).buffer;
  }
  function enc(buf) {
    let s = "";
    new Uint8Array(buf).forEach(function (b) { s += String.fromCharCode(b); });
    return btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }
  function say(text, bad) {
    shown.textContent = text;
    shown.className = bad ? "error" : "done";
    shown.hidden = false;
    shown.focus();
  }
  async function post(path, body) {
    const r = await fetch(base + path, {
      method: "POST", credentials: "same-origin",
      headers: {"Content-Type": "application/json"}, body: JSON.stringify(body)
    });
    let data = {};
    try { data = await r.json(); } catch (e) { data = {}; }
    return [r.status, data];
  }
  function asJSON(cred) {
    const r = cred.response;
    const out = {id: cred.id, rawId: enc(cred.rawId), type: cred.type,
                 clientExtensionResults: {}, response: {clientDataJSON: enc(r.clientDataJSON)}};
    if (r.attestationObject) { out.response.attestationObject = enc(r.attestationObject); }
    if (r.authenticatorData) {
      out.response.authenticatorData = enc(r.authenticatorData);
      out.response.signature = enc(r.signature);
      if (r.userHandle) { out.response.userHandle = enc(r.userHandle); }
    }
    return out;
  }
  form.addEventListener("submit", async function (event) {
    event.preventDefault();
    const field = function (name) { return form.elements[name] ? form.elements[name].value : ""; };
    const nonce = field("nonce");
    const [status, options] = await post("/" + mode + "/options", {
      operator_id: field("operator_id"), terminal: field("terminal"), code: field("code"),
      nonce: nonce
    });
    if (status !== 200) { say(options.message || "入力内容が正しくありません", true); return; }
    const pk = options.publicKey;
    pk.challenge = dec(pk.challenge);
    let cred;
    try {
      if (mode === "enrol") {
        pk.user.id = dec(pk.user.id);
        pk.excludeCredentials = (pk.excludeCredentials || []).map(function (c) {
          return Object.assign({}, c, {id: dec(c.id)});
        });
        cred = await navigator.credentials.create({publicKey: pk});
      } else {
        pk.allowCredentials = (pk.allowCredentials || []).map(function (c) {
          return Object.assign({}, c, {id: dec(c.id)});
        });
        cred = await navigator.credentials.get({publicKey: pk});
      }
    } catch (e) {
      say("照合情報による認証ができませんでした（" + e.name + "）", true);
      return;
    }
    const [done, answer] = await post("/" + mode, {
      challenge_id: options.challenge_id, credential: asJSON(cred), pin: field("pin"), nonce: nonce
    });
    if (done !== 200) {
      if (form.elements.pin) { form.elements.pin.value = ""; }
      say(answer.message || "認証に失敗しました", true);
      return;
    }
    if (answer.redirect) { window.location.assign(answer.redirect); return; }
    say(answer.message, false);
  });
})();
