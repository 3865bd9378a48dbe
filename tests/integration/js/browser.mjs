// Drives headless Chromium (Debian's /usr/bin/chromium, through playwright-core, which never
// downloads a browser) for test_browser.py. Usage: node browser.mjs PLAN.json
//
// PLAN: {"page": URL of a page served by the test (its origin is the one CORS sees),
//        "steps": [STEP, ...]}
// STEP: {"name": "...", "url": "...", "method": "PUT", "headers": {...},
//        "body_b64": "..."                       raw body, or
//        "form": {"fields": [[name, value], ...],  multipart/form-data body (browser form
//                 "file": {"field": "file", "filename": "a.txt", "type": "text/plain",
//                          "b64": "..."}},         upload; the file part is appended last)
//        "read_headers": ["etag", ...],          response headers to read from script
//        "expect_b64": "..."}                    compare the response body with these bytes
// Every step runs as fetch() inside the page, so the browser applies its CORS rules (preflight,
// Access-Control-Allow-*, exposed headers) exactly as for a web application. Prints one JSON
// line: {"steps": [{"name", "ok", "status", "headers", "length", "body_b64", "equal",
// "error"}...], "console": [...]}; "ok" is false and "error" holds the exception (a refused
// CORS request is "TypeError: Failed to fetch") when fetch() rejects.
import { readFileSync } from 'node:fs';
import { chromium } from 'playwright-core';

const plan = JSON.parse(readFileSync(process.argv[2], 'utf8'));

// Runs in the page: no closure over this module's variables.
async function runStep(step) {
    const fromB64 = (s) => Uint8Array.from(atob(s), (c) => c.charCodeAt(0));
    const toB64 = (u8) => {
        let s = '';
        for (let i = 0; i < u8.length; i += 0x8000)
            s += String.fromCharCode(...u8.subarray(i, i + 0x8000));
        return btoa(s);
    };
    const init = { method: step.method || 'GET', headers: step.headers || {}, mode: 'cors' };
    if (step.body_b64 !== undefined)
        init.body = fromB64(step.body_b64);
    if (step.form !== undefined) {
        const fd = new FormData();
        for (const [k, v] of step.form.fields || [])
            fd.append(k, v);
        const f = step.form.file;
        if (f !== undefined)
            fd.append(f.field || 'file', new Blob([fromB64(f.b64)], { type: f.type || '' }),
                      f.filename || 'file');
        init.body = fd;
    }
    const out = { name: step.name, ok: false };
    try {
        const r = await fetch(step.url, init);
        out.ok = true;
        out.status = r.status;
        out.headers = {};
        for (const h of step.read_headers || [])
            out.headers[h] = r.headers.get(h);
        const body = new Uint8Array(await r.arrayBuffer());
        out.length = body.length;
        out.body_b64 = toB64(body);
        if (step.expect_b64 !== undefined) {
            const want = fromB64(step.expect_b64);
            out.equal = want.length === body.length && want.every((v, i) => v === body[i]);
        }
    } catch (e) {
        out.error = `${e.name}: ${e.message}`;
    }
    return out;
}

const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
           '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    timeout: 60000,
});
try {
    const page = await browser.newPage();
    const consoleLines = [];
    page.on('console', (m) => consoleLines.push(m.text()));
    await page.goto(plan.page, { timeout: 60000 });
    const steps = [];
    for (const step of plan.steps)
        steps.push(await page.evaluate(runStep, step));
    process.stdout.write(JSON.stringify({ steps, console: consoleLines }) + '\n');
} finally {
    await browser.close();
}
