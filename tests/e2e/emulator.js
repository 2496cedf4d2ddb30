#!/usr/bin/env node
/*
 * A local Telegram Bot API emulator for PocketCoach's end-to-end tests.
 *
 * It runs the npm package `telegram-test-api` (pinned in package.json) and patches what
 * python-telegram-bot 22 cannot accept from it, without touching node_modules: an outer
 * Express app answers the patched Bot API methods itself and hands everything else to the
 * package's own app, and a response filter fixes what the package's routes still send.
 * README.md beside this file lists every patch and the PTB error it fixes.
 *
 * Usage:  node emulator.js [--port N] [--host H] [--bot-username NAME] [--exit-with-stdin]
 *         (or TG_EMULATOR_PORT / TG_EMULATOR_HOST / TG_EMULATOR_BOT_USERNAME; port 0 = any free port)
 * Prints one line `TELEGRAM_TEST_API_READY {json}` on stdout once it is listening.
 */
'use strict';

const http = require('http');
const { createRequire } = require('module');

const TelegramServer = require('telegram-test-api');
// The package's own Express, so the outer app and the inner one agree on versions.
const express = createRequire(require.resolve('telegram-test-api'))('express');

const READY_PREFIX = 'TELEGRAM_TEST_API_READY';
const MAX_BODY = 50 * 1024 * 1024;
const MAX_CALLS = 20000;
const MAX_POLL_SECONDS = 50;

// ---------------------------------------------------------------- options

function parseOptions(argv, env) {
  const opts = {
    port: env.TG_EMULATOR_PORT !== undefined ? Number(env.TG_EMULATOR_PORT) : 0,
    host: env.TG_EMULATOR_HOST || '127.0.0.1',
    botUsername: env.TG_EMULATOR_BOT_USERNAME || 'pocketcoach_test_bot',
    exitWithStdin: false,
  };
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i];
    const [flag, inline] = arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, undefined];
    const value = () => (inline !== undefined ? inline : argv[++i]);
    if (flag === '--port') opts.port = Number(value());
    else if (flag === '--host') opts.host = value();
    else if (flag === '--bot-username') opts.botUsername = value();
    else if (flag === '--exit-with-stdin') opts.exitWithStdin = true;
    else if (/^\d+$/.test(arg)) opts.port = Number(arg);
    else throw new Error(`unknown argument: ${arg}`);
  }
  if (!Number.isInteger(opts.port) || opts.port < 0 || opts.port > 65535) {
    throw new Error(`bad port: ${opts.port}`);
  }
  return opts;
}

// ---------------------------------------------------------------- helpers

const nowSeconds = () => Math.floor(Date.now() / 1000);

// telegram-test-api stores times in milliseconds; Telegram's `date` is Unix seconds.
function toSeconds(value) {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) return nowSeconds();
  return n > 1e11 ? Math.floor(n / 1000) : Math.floor(n);
}

// Parameters that PTB sends as JSON text inside form fields.
const JSON_PARAMS = new Set([
  'reply_markup', 'entities', 'caption_entities', 'link_preview_options', 'reply_parameters',
  'commands', 'scope', 'allowed_updates', 'menu_button', 'media', 'results', 'rights',
]);

function parseJsonParam(key, value) {
  if (!JSON_PARAMS.has(key) || typeof value !== 'string') return value;
  const text = value.trim();
  if (!text.startsWith('{') && !text.startsWith('[')) return value;
  try {
    return JSON.parse(text);
  } catch (_e) {
    return value;
  }
}

function normalizeParams(raw) {
  const out = {};
  for (const [key, value] of Object.entries(raw || {})) out[key] = parseJsonParam(key, value);
  return out;
}

function truthy(value) {
  return value === true || value === 'true' || value === 'True' || value === '1' || value === 1;
}

// JSON with sorted keys, for comparing message contents.
function canonical(value) {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object') {
    return `{${Object.keys(value).filter((k) => value[k] !== undefined).sort()
      .map((k) => `${JSON.stringify(k)}:${canonical(value[k])}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

function tgError(res, code, description) {
  res.status(code).json({ ok: false, error_code: code, description });
}

function tgOk(res, result) {
  res.status(200).json({ ok: true, result });
}

// ---------------------------------------------------------------- multipart (PTB sends files this way)

function parseContentDisposition(header) {
  const out = {};
  const re = /;\s*([a-zA-Z*]+)=(?:"((?:[^"\\]|\\.)*)"|([^;]*))/g;
  let m;
  while ((m = re.exec(header)) !== null) {
    const key = m[1].toLowerCase();
    let value = m[2] !== undefined ? m[2].replace(/\\(.)/g, '$1') : m[3].trim();
    if (key.endsWith('*')) {
      const star = /^[^']*'[^']*'(.*)$/.exec(value);
      try {
        value = decodeURIComponent(star ? star[1] : value);
      } catch (_e) { /* keep raw */ }
      out[key.slice(0, -1)] = value;
    } else if (out[key] === undefined) {
      out[key] = value.replace(/%22/g, '"');
    }
  }
  return out;
}

function multipart(req, res, next) {
  const type = req.headers['content-type'] || '';
  if (!/^multipart\/form-data/i.test(type)) return next();
  const bm = /boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(type);
  if (!bm) return tgError(res, 400, 'Bad Request: multipart body without boundary');
  const boundary = Buffer.from(`--${bm[1] || bm[2]}`);
  const chunks = [];
  let size = 0;
  req.on('data', (chunk) => {
    size += chunk.length;
    if (size <= MAX_BODY) chunks.push(chunk);
  });
  req.on('error', next);
  req.on('end', () => {
    if (size > MAX_BODY) return tgError(res, 413, 'Request Entity Too Large');
    const body = Buffer.concat(chunks);
    const fields = {};
    const files = {};
    let pos = body.indexOf(boundary);
    while (pos !== -1) {
      let start = pos + boundary.length;
      if (body.slice(start, start + 2).toString() === '--') break;
      if (body.slice(start, start + 2).toString() === '\r\n') start += 2;
      const headerEnd = body.indexOf('\r\n\r\n', start);
      if (headerEnd === -1) break;
      const next = body.indexOf(Buffer.concat([Buffer.from('\r\n'), boundary]), headerEnd + 4);
      if (next === -1) break;
      const headers = {};
      for (const line of body.slice(start, headerEnd).toString('utf8').split('\r\n')) {
        const i = line.indexOf(':');
        if (i > 0) headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
      }
      const disp = parseContentDisposition(headers['content-disposition'] || '');
      const data = body.slice(headerEnd + 4, next);
      if (disp.name !== undefined) {
        if (disp.filename !== undefined) {
          files[disp.name] = {
            filename: disp.filename,
            mime_type: headers['content-type'] || 'application/octet-stream',
            data,
          };
        } else {
          fields[disp.name] = data.toString('utf8');
        }
      }
      pos = next + 2;
    }
    req.body = fields;
    req.files = files;
    req._body = true; // tell body-parser (in the inner app) that the body is read
    return next();
  });
  return undefined;
}

// ---------------------------------------------------------------- the emulator

function createEmulator(opts) {
  // storeTimeout: keep unread messages for an hour, not the package's 60 s, so a slow test keeps them.
  const server = new TelegramServer({ port: opts.port || 1, host: opts.host, storeTimeout: 3600 });
  const state = {
    calls: [],
    seq: 0,
    chats: new Map(), // chat id (string) → chat object seen in user messages
    files: new Map(), // file_id → {file_id, file_unique_id, file_size, file_name, mime_type, file_path, data}
    filesByPath: new Map(),
    fileCounter: 0,
    commands: new Map(), // token → BotCommand[]
    pollWaiters: new Set(),
    failures: new Map(), // lower-case method → how many of its next calls answer 502 (/_emulator/fail)
  };

  const botUser = (token) => {
    const idPart = String(token).split(':')[0];
    const id = /^\d+$/.test(idPart) ? Number(idPart) : 666;
    return {
      id,
      is_bot: true,
      first_name: 'PocketCoach Test Bot',
      username: opts.botUsername,
      can_join_groups: true,
      can_read_all_group_messages: false,
      supports_inline_queries: false,
      can_connect_to_business: false,
      has_main_web_app: false,
    };
  };

  const rememberChat = (chat) => {
    if (chat && chat.id !== undefined && chat.id !== null) {
      state.chats.set(String(chat.id), { type: 'private', ...chat });
    }
  };

  const chatFor = (chatId) => {
    const known = state.chats.get(String(chatId));
    if (known) return known;
    const n = Number(chatId);
    return { id: Number.isFinite(n) ? n : chatId, type: n < 0 ? 'group' : 'private', first_name: 'Test' };
  };

  const findBotEntry = (token, chatId, messageId) => server.storage.botMessages.find((e) => (
    e.botToken === token
    && String(e.messageId) === String(messageId)
    && (chatId === undefined || chatId === null || String(e.message.chat_id) === String(chatId))
  ));

  // A stored bot message as a Telegram `Message` object PTB 22 can parse.
  const telegramMessage = (entry) => {
    const m = entry.message;
    const msg = {
      message_id: entry.messageId,
      from: botUser(entry.botToken),
      date: toSeconds(entry.time),
      chat: chatFor(m.chat_id),
    };
    if (m.edit_date) msg.edit_date = m.edit_date;
    for (const key of ['text', 'caption']) if (typeof m[key] === 'string') msg[key] = m[key];
    for (const key of ['entities', 'caption_entities']) {
      const value = parseJsonParam(key, m[key]);
      if (Array.isArray(value)) msg[key] = value;
    }
    for (const key of ['document', 'photo']) if (m[key]) msg[key] = m[key];
    const markup = parseJsonParam('reply_markup', m.reply_markup);
    if (markup && Array.isArray(markup.inline_keyboard)) msg.reply_markup = { inline_keyboard: markup.inline_keyboard };
    return msg;
  };

  // Replaces TelegramServer.formatUpdate: user messages get `date`, callback queries get
  // `chat_instance` and the full bot message the button belongs to.
  const formatUpdate = (update) => {
    if ('callbackQuery' in update) {
      const cq = update.callbackQuery;
      const from = { is_bot: false, ...(cq.from || {}) };
      const given = cq.message || {};
      const chat = given.chat || (cq.chat_id !== undefined ? { id: cq.chat_id } : { id: from.id });
      const messageId = given.message_id !== undefined ? given.message_id : cq.message_id;
      const query = {
        id: String(update.callbackId),
        from,
        chat_instance: String(cq.chat_instance || `emulator-${chat.id}`),
      };
      if (cq.data !== undefined) query.data = String(cq.data);
      if (messageId !== undefined && messageId !== null) {
        const entry = findBotEntry(update.botToken, chat.id, messageId);
        query.message = entry ? telegramMessage(entry) : {
          ...given,
          message_id: Number(messageId),
          date: given.date !== undefined ? given.date : toSeconds(update.time),
          chat: { type: 'private', ...chat },
        };
      }
      return { update_id: update.updateId, callback_query: query };
    }
    const message = { ...update.message };
    delete message.botToken;
    message.message_id = update.messageId;
    message.date = message.date !== undefined ? toSeconds(message.date) : toSeconds(update.time);
    if (message.from) message.from = { is_bot: false, ...message.from };
    if (message.chat) message.chat = { type: 'private', ...message.chat };
    return { update_id: update.updateId, message };
  };
  TelegramServer.formatUpdate = formatUpdate; // the package's webhook path uses it too

  // ---------------- webhooks, delivered the way Telegram does
  // The package POSTs without the secret header, never retries, reuses update ids when deliveries overlap
  // (it counts up only after the POST returns) and answers its client before delivering. Here: ids are taken
  // when the update is created, updates of one chat are delivered in order, each POST carries
  // X-Telegram-Bot-Api-Secret-Token, a failed delivery (network error or non-2xx) is retried with backoff,
  // and every delivery is logged for tests (/_emulator/deliveries). A client send with ?wait=1 answers only
  // after the delivery ended, with its outcome.

  const DELIVERY_ATTEMPTS = 5;
  const DELIVERY_TIMEOUT_MS = 60000;
  state.deliveries = [];
  state.deliveryPromises = new Map(); // update id → promise of its delivery record
  state.chatChains = new Map(); // chat id → promise of the chat's last delivery

  const takeIds = (botToken) => {
    const fields = { time: Date.now(), botToken, updateId: server.updateId, messageId: server.messageId, isRead: false };
    server.updateId += 1;
    server.messageId += 1;
    return fields;
  };

  const chatOf = (update) => {
    if ('callbackQuery' in update) {
      const cq = update.callbackQuery;
      return String(((cq.message || {}).chat || {}).id || (cq.from || {}).id);
    }
    return String(((update.message || {}).chat || {}).id || ((update.message || {}).from || {}).id);
  };

  const sleep = (ms) => new Promise((resolve) => { setTimeout(resolve, ms); });

  const deliver = async (hook, update) => {
    const record = { update_id: update.updateId, chat: chatOf(update), url: hook.url, attempts: 0, ok: false, statuses: [] };
    const started = Date.now();
    for (let attempt = 1; attempt <= DELIVERY_ATTEMPTS && !state.shuttingDown; attempt += 1) {
      record.attempts = attempt;
      const headers = { 'Content-Type': 'application/json' };
      if (hook.secret_token) headers['X-Telegram-Bot-Api-Secret-Token'] = String(hook.secret_token);
      try {
        const response = await fetch(hook.url, {
          method: 'POST', headers, body: JSON.stringify(formatUpdate(update)), signal: AbortSignal.timeout(DELIVERY_TIMEOUT_MS),
        });
        await response.arrayBuffer();
        record.statuses.push(response.status);
        if (response.status >= 200 && response.status < 300) { record.ok = true; break; }
      } catch (err) {
        record.statuses.push(String((err && (err.cause && err.cause.code)) || (err && err.name) || err));
      }
      await sleep(Math.min(100 * 2 ** (attempt - 1), 2000));
    }
    record.ms = Date.now() - started;
    if (!record.ok) update.lastError = record.statuses[record.statuses.length - 1];
    state.deliveries.push(record);
    if (state.deliveries.length > MAX_CALLS) state.deliveries.splice(0, state.deliveries.length - MAX_CALLS);
    return record;
  };

  server.addUserUpdate = (update) => {
    const hook = server.webhooks[update.botToken];
    if (!hook) {
      server.storage.userMessages.push(update);
      return Promise.resolve();
    }
    const chat = chatOf(update);
    const previous = state.chatChains.get(chat) || Promise.resolve();
    const delivery = previous.then(() => deliver(hook, update));
    state.chatChains.set(chat, delivery);
    state.deliveryPromises.set(update.updateId, delivery);
    delivery.finally(() => {
      if (state.chatChains.get(chat) === delivery) state.chatChains.delete(chat);
      setTimeout(() => state.deliveryPromises.delete(update.updateId), 600000).unref();
    });
    return delivery.then(() => undefined);
  };
  server.addUserMessage = async (message) => {
    const done = server.addUserUpdate({ ...takeIds(message.botToken), message });
    server.emit('AddedUserMessage');
    await done;
  };
  server.addUserCommand = async (message) => {
    const done = server.addUserUpdate({ ...takeIds(message.botToken), message, entities: message.entities });
    server.emit('AddedUserCommand');
    await done;
  };
  server.addUserCallback = async (callbackQuery) => {
    const fields = takeIds(callbackQuery.botToken);
    server.messageId -= 1; // a button press is not a message
    const done = server.addUserUpdate({ ...fields, callbackQuery, callbackId: server.callbackId });
    server.callbackId += 1;
    server.emit('AddedUserCallbackQuery');
    await done;
  };

  // ---------------- files

  const storeFile = (token, kind, filename, mimeType, data) => {
    state.fileCounter += 1;
    const n = state.fileCounter;
    const safeName = String(filename || `file_${n}`).replace(/[/\\]/g, '_');
    const file = {
      file_id: `emu-${kind}-${n}`,
      file_unique_id: `emu-u${n}`,
      file_size: data.length,
      file_name: safeName,
      mime_type: mimeType || 'application/octet-stream',
      file_path: `${kind}s/${n}/${safeName}`,
      token,
      data,
    };
    state.files.set(file.file_id, file);
    state.filesByPath.set(file.file_path, file);
    return file;
  };

  const imageSize = (data) => {
    // PNG: width and height in the IHDR chunk; anything else is reported as 1×1.
    if (data.length >= 24 && data.readUInt32BE(0) === 0x89504e47) {
      return { width: data.readUInt32BE(16), height: data.readUInt32BE(20) };
    }
    return { width: 1, height: 1 };
  };

  // The file a send* method was given: an upload, a known file_id, or a URL.
  const inputFile = (req, params, field, token, kind) => {
    const upload = req.files && req.files[field];
    if (upload) return storeFile(token, kind, upload.filename, upload.mime_type, upload.data);
    const ref = params[field];
    if (typeof ref === 'string' && ref.startsWith('attach://')) {
      const attached = req.files && req.files[ref.slice('attach://'.length)];
      if (attached) return storeFile(token, kind, attached.filename, attached.mime_type, attached.data);
    }
    if (typeof ref === 'string' && state.files.has(ref)) return state.files.get(ref);
    if (typeof ref === 'string' && ref) return storeFile(token, kind, ref.split('/').pop(), '', Buffer.alloc(0));
    return null;
  };

  // ---------------- long-polling getUpdates with offset confirmation

  const wakePollers = () => {
    for (const wake of [...state.pollWaiters]) wake();
  };
  for (const event of ['AddedUserMessage', 'AddedUserCommand', 'AddedUserCallbackQuery']) {
    server.on(event, wakePollers);
  }

  const collectUpdates = (token, offset, limit, allowed) => {
    for (const u of server.storage.userMessages) {
      if (u.botToken === token && offset > 0 && u.updateId < offset) {
        u.confirmed = true;
        u.isRead = true;
      }
    }
    return server.storage.userMessages
      .filter((u) => u.botToken === token && !u.confirmed)
      .filter((u) => !allowed || allowed.length === 0
        || allowed.includes('callbackQuery' in u ? 'callback_query' : 'message'))
      .sort((a, b) => a.updateId - b.updateId)
      .slice(0, limit);
  };

  const getUpdates = async (req, res, token, params) => {
    const offset = Number.parseInt(params.offset, 10) || 0;
    const limit = Math.min(Math.max(Number.parseInt(params.limit, 10) || 100, 1), 100);
    const timeout = Math.min(Math.max(Number(params.timeout) || 0, 0), MAX_POLL_SECONDS);
    const allowed = Array.isArray(params.allowed_updates) ? params.allowed_updates : null;
    const deadline = Date.now() + timeout * 1000;
    let closed = false;
    res.on('close', () => { closed = true; wakePollers(); });
    for (;;) {
      const updates = collectUpdates(token, offset, limit, allowed);
      if (closed) return;
      if (updates.length > 0 || Date.now() >= deadline || state.shuttingDown) {
        for (const u of updates) u.isRead = true;
        tgOk(res, updates.map(formatUpdate));
        return;
      }
      await new Promise((resolve) => {
        let timer = null;
        const wake = () => {
          state.pollWaiters.delete(wake);
          clearTimeout(timer);
          resolve();
        };
        timer = setTimeout(wake, Math.max(deadline - Date.now(), 0));
        state.pollWaiters.add(wake);
      });
    }
  };

  // ---------------- Bot API methods answered here (lower-case names; Telegram ignores case)

  // Stores a bot message through the package (so its client API sees it) and returns the entry.
  const sendStored = (token, body) => {
    server.addBotMessage(body, token);
    return server.storage.botMessages[server.storage.botMessages.length - 1];
  };

  const requireChat = (res, params) => {
    if (params.chat_id === undefined || params.chat_id === '') {
      tgError(res, 400, 'Bad Request: chat_id is empty');
      return false;
    }
    return true;
  };

  const editTarget = (res, token, params) => {
    if (params.inline_message_id) {
      tgError(res, 400, 'Bad Request: the emulator does not support inline messages');
      return null;
    }
    const entry = findBotEntry(token, params.chat_id, params.message_id);
    if (!entry) tgError(res, 400, 'Bad Request: message to edit not found');
    return entry;
  };

  const markupOf = (params) => {
    const markup = params.reply_markup;
    return markup && typeof markup === 'object' && Array.isArray(markup.inline_keyboard) ? markup : undefined;
  };

  const applyEdit = (res, entry, changes) => {
    const next = { ...entry.message, ...changes };
    for (const key of Object.keys(next)) if (next[key] === undefined) delete next[key];
    const comparable = (m) => canonical({ ...m, edit_date: undefined });
    if (comparable(next) === comparable(entry.message)) {
      tgError(res, 400, 'Bad Request: message is not modified: specified new message content and reply markup'
        + ' are exactly the same as a current content and reply markup of the message');
      return;
    }
    next.edit_date = nowSeconds();
    entry.message = next;
    tgOk(res, telegramMessage(entry));
  };

  const methods = {
    getme: (req, res, token) => tgOk(res, botUser(token)),
    logout: (req, res) => tgOk(res, true),
    close: (req, res) => tgOk(res, true),
    getupdates: (req, res, token, params) => getUpdates(req, res, token, params),
    deletewebhook: (req, res, token, params) => {
      server.deleteWebhook(token);
      if (truthy(params.drop_pending_updates)) {
        for (const u of server.storage.userMessages) {
          if (u.botToken === token) { u.confirmed = true; u.isRead = true; }
        }
      }
      tgOk(res, true);
    },
    getwebhookinfo: (req, res, token) => {
      const hook = server.webhooks[token];
      const pending = server.storage.userMessages.filter((u) => u.botToken === token && !u.confirmed).length;
      const info = { url: hook ? hook.url : '', has_custom_certificate: false, pending_update_count: pending };
      if (hook && hook.max_connections) info.max_connections = Number(hook.max_connections);
      const failed = state.deliveries.filter((d) => !d.ok);
      if (failed.length > 0) info.last_error_message = String(failed[failed.length - 1].statuses.slice(-1)[0]);
      tgOk(res, info);
    },
    setwebhook: (req, res, token, params) => {
      if (typeof params.url !== 'string' || params.url === '') {
        server.deleteWebhook(token);
        tgOk(res, true);
        return;
      }
      if (!/^https?:\/\//.test(params.url)) {
        tgError(res, 400, 'Bad Request: bad webhook: An HTTPS URL must be provided for webhook');
        return;
      }
      if (params.secret_token !== undefined && !/^[A-Za-z0-9_-]{1,256}$/.test(String(params.secret_token))) {
        tgError(res, 400, 'Bad Request: secret token contains unallowed characters');
        return;
      }
      server.webhooks[token] = {
        url: params.url, secret_token: params.secret_token, max_connections: params.max_connections,
      };
      tgOk(res, true);
    },
    sendmessage: (req, res, token, params) => {
      if (!requireChat(res, params)) return;
      if (typeof params.text !== 'string' || params.text.trim() === '') {
        tgError(res, 400, 'Bad Request: message text is empty');
        return;
      }
      if (params.text.length > 4096) {
        tgError(res, 400, 'Bad Request: message is too long');
        return;
      }
      const entry = sendStored(token, { ...params });
      tgOk(res, telegramMessage(entry));
    },
    senddocument: (req, res, token, params) => {
      if (!requireChat(res, params)) return;
      const file = inputFile(req, params, 'document', token, 'document');
      if (!file) {
        tgError(res, 400, 'Bad Request: there is no document in the request');
        return;
      }
      const document = {
        file_id: file.file_id, file_unique_id: file.file_unique_id, file_name: file.file_name,
        mime_type: file.mime_type, file_size: file.file_size,
      };
      const entry = sendStored(token, { ...params, document });
      tgOk(res, telegramMessage(entry));
    },
    sendphoto: (req, res, token, params) => {
      if (!requireChat(res, params)) return;
      const file = inputFile(req, params, 'photo', token, 'photo');
      if (!file) {
        tgError(res, 400, 'Bad Request: there is no photo in the request');
        return;
      }
      const photo = [{
        file_id: file.file_id, file_unique_id: file.file_unique_id, file_size: file.file_size,
        ...imageSize(file.data),
      }];
      const entry = sendStored(token, { ...params, photo });
      tgOk(res, telegramMessage(entry));
    },
    getfile: (req, res, token, params) => {
      const file = state.files.get(String(params.file_id));
      if (!file) {
        tgError(res, 400, 'Bad Request: invalid file_id');
        return;
      }
      tgOk(res, {
        file_id: file.file_id, file_unique_id: file.file_unique_id, file_size: file.file_size, file_path: file.file_path,
      });
    },
    editmessagetext: (req, res, token, params) => {
      if (typeof params.text !== 'string' || params.text.trim() === '') {
        tgError(res, 400, 'Bad Request: message text is empty');
        return;
      }
      const entry = editTarget(res, token, params);
      if (!entry) return;
      // Like Telegram: an edit without reply_markup removes the inline keyboard.
      applyEdit(res, entry, {
        text: params.text, parse_mode: params.parse_mode, entities: params.entities, reply_markup: markupOf(params),
      });
    },
    editmessagecaption: (req, res, token, params) => {
      const entry = editTarget(res, token, params);
      if (!entry) return;
      applyEdit(res, entry, {
        caption: params.caption, parse_mode: params.parse_mode, caption_entities: params.caption_entities,
        reply_markup: markupOf(params),
      });
    },
    editmessagereplymarkup: (req, res, token, params) => {
      const entry = editTarget(res, token, params);
      if (!entry) return;
      applyEdit(res, entry, { reply_markup: markupOf(params) });
    },
    deletemessage: (req, res, token, params) => {
      const before = server.storage.botMessages.length + server.storage.userMessages.length;
      const chatId = String(params.chat_id);
      const messageId = String(params.message_id);
      server.storage.botMessages = server.storage.botMessages.filter((e) => !(
        e.botToken === token && String(e.message.chat_id) === chatId && String(e.messageId) === messageId));
      server.storage.userMessages = server.storage.userMessages.filter((u) => !(
        u.botToken === token && 'message' in u && u.message && u.message.chat
        && String(u.message.chat.id) === chatId && String(u.messageId) === messageId));
      if (server.storage.botMessages.length + server.storage.userMessages.length === before) {
        tgError(res, 400, 'Bad Request: message to delete not found');
        return;
      }
      tgOk(res, true);
    },
    answercallbackquery: (req, res, token, params) => {
      if (!params.callback_query_id) {
        tgError(res, 400, 'Bad Request: query_id_invalid');
        return;
      }
      tgOk(res, true);
    },
    sendchataction: (req, res, token, params) => {
      if (!requireChat(res, params)) return;
      tgOk(res, true);
    },
    setmycommands: (req, res, token, params) => {
      state.commands.set(token, Array.isArray(params.commands) ? params.commands : []);
      tgOk(res, true);
    },
    deletemycommands: (req, res, token) => {
      state.commands.delete(token);
      tgOk(res, true);
    },
    getmycommands: (req, res, token) => tgOk(res, state.commands.get(token) || []),
    setmydescription: (req, res) => tgOk(res, true),
    setmyshortdescription: (req, res) => tgOk(res, true),
    setmyname: (req, res) => tgOk(res, true),
    setchatmenubutton: (req, res) => tgOk(res, true),
    getchat: (req, res, token, params) => {
      if (!requireChat(res, params)) return;
      tgOk(res, { ...chatFor(params.chat_id), accent_color_id: 0, max_reaction_count: 11 });
    },
  };
  // Methods still answered by telegram-test-api's own routes (behind the response filter).
  const passThrough = new Set();

  // ---------------- the outer app

  const app = express();
  app.disable('x-powered-by');
  app.use(multipart);
  app.use(express.json({ limit: MAX_BODY }));
  app.use(express.urlencoded({ extended: false, limit: MAX_BODY }));

  // Response filter for everything under /bot…: Telegram-shaped errors with real status codes
  // (PTB maps them to BadRequest/EndPointNotFound), and `date` on every message in a result.
  const fixMessage = (value) => {
    if (value && typeof value === 'object' && 'message_id' in value && 'chat' in value) {
      value.date = toSeconds(value.date);
    }
    return value;
  };
  app.use(/^\/bot[^/]+\//, (req, res, next) => {
    const json = res.json.bind(res);
    res.json = (body) => {
      let out = body;
      if (out && typeof out === 'object' && out.ok === undefined && typeof out.message === 'string') {
        out = { ok: false, error_code: res.statusCode >= 400 ? res.statusCode : 500, description: out.message };
      }
      if (out && out.ok === false) {
        const code = Number(out.error_code) || 400;
        res.status(code);
        out = { ok: false, error_code: code, description: String(out.description || 'Bad Request') };
      } else if (out && out.ok === true) {
        if (Array.isArray(out.result)) out.result.forEach(fixMessage);
        else fixMessage(out.result);
      }
      return json(out);
    };
    next();
  });

  app.all('/bot:token/:method', (req, res, next) => {
    if (req.method !== 'GET' && req.method !== 'POST') {
      tgError(res, 405, `Method Not Allowed: HTTP ${req.method}`);
      return;
    }
    const { token } = req.params;
    const name = String(req.params.method).toLowerCase();
    const params = normalizeParams({ ...req.query, ...(req.body || {}) });
    req.body = { ...(req.body || {}), ...params }; // the package's routes see parsed JSON params too
    if (name !== 'getupdates') {
      state.seq += 1;
      const logged = { ...params };
      for (const [field, f] of Object.entries(req.files || {})) {
        logged[field] = { filename: f.filename, mime_type: f.mime_type, size: f.data.length };
      }
      state.calls.push({ seq: state.seq, method: req.params.method, token, params: logged, time: Date.now() / 1000 });
      if (state.calls.length > MAX_CALLS) state.calls.splice(0, state.calls.length - MAX_CALLS);
    }
    const failures = state.failures.get(name) || 0;
    if (failures > 0 && name !== 'getupdates') {
      state.failures.set(name, failures - 1);
      tgError(res, 502, 'Bad Gateway (injected by the test: /_emulator/fail)');
      return;
    }
    const handler = methods[name];
    if (handler) {
      Promise.resolve(handler(req, res, token, params)).catch(next);
      return;
    }
    if (passThrough.has(name)) {
      next();
      return;
    }
    tgError(res, 404, `Not Found: method ${req.params.method} is not implemented by the test emulator`
      + ' (tests/e2e/emulator.js)');
  });

  app.get('/file/bot:token/*', (req, res) => {
    const file = state.filesByPath.get(req.params[0]);
    if (!file || file.token !== req.params.token) {
      res.status(404).json({ ok: false, error_code: 404, description: 'Not Found: file' });
      return;
    }
    res.type(file.mime_type).send(file.data);
  });

  // Client API additions: validate what the package would otherwise assert on inside a
  // fire-and-forget promise (which would crash Node), remember chats, and answer with the ids
  // the new update got instead of `null`.
  const clientSend = (kind) => (req, res, next) => {
    const body = req.body || {};
    if (typeof body.botToken !== 'string' || body.botToken === '') {
      res.status(400).json({ ok: false, description: 'botToken is required' });
      return;
    }
    if (kind === 'command' && !Array.isArray(body.entities)) {
      res.status(400).json({ ok: false, description: 'a command needs entities' });
      return;
    }
    if (kind === 'callback' && body.data === undefined) {
      res.status(400).json({ ok: false, description: 'a callback query needs data' });
      return;
    }
    rememberChat(kind === 'callback' ? (body.message || {}).chat : body.chat);
    const ids = { update_id: server.updateId };
    if (kind === 'callback') ids.callback_query_id = String(server.callbackId);
    else ids.message_id = server.messageId;
    const wait = truthy(req.query.wait);
    const json = res.json.bind(res);
    res.json = (out) => {
      if (!(out && out.ok === true && out.result === null)) return json(out);
      const delivery = wait ? state.deliveryPromises.get(ids.update_id) : undefined;
      if (!delivery) return json({ ...out, result: ids });
      return delivery.then((record) => json({ ...out, result: { ...ids, delivery: record } }));
    };
    next();
  };
  app.post('/sendMessage', clientSend('message'));
  app.post('/sendCommand', clientSend('command'));
  app.post('/sendCallback', clientSend('callback'));

  app.get('/_emulator/health', (req, res) => res.json({ ok: true, result: { pid: process.pid } }));
  app.get('/_emulator/deliveries', (req, res) => res.json({ ok: true, result: state.deliveries }));
  app.post('/_emulator/fail', (req, res) => {
    const { method, count } = req.body || {};
    if (typeof method !== 'string' || !Number.isInteger(Number(count))) {
      res.status(400).json({ ok: false, description: 'method and count are required' });
      return;
    }
    state.failures.set(method.toLowerCase(), Number(count));
    res.json({ ok: true, result: true });
  });
  app.post('/_emulator/calls', (req, res) => {
    const { token } = req.body || {};
    const since = Number((req.body || {}).since) || 0;
    res.json({ ok: true, result: state.calls.filter((c) => c.token === token && c.seq > since) });
  });
  app.post('/_emulator/files', (req, res) => {
    const body = req.body || {};
    if (typeof body.token !== 'string' || typeof body.data_base64 !== 'string') {
      res.status(400).json({ ok: false, description: 'token and data_base64 are required' });
      return;
    }
    const data = Buffer.from(body.data_base64, 'base64');
    const kind = body.kind === 'photo' ? 'photo' : 'document';
    const file = storeFile(body.token, kind, body.file_name, body.mime_type, data);
    const { token: _t, data: _d, ...meta } = file;
    res.json({ ok: true, result: { ...meta, ...(kind === 'photo' ? imageSize(data) : {}) } });
  });
  app.get('/_emulator/files/:fileId', (req, res) => {
    const file = state.files.get(req.params.fileId);
    if (!file) {
      res.status(404).json({ ok: false, description: 'no such file' });
      return;
    }
    res.type(file.mime_type).send(file.data);
  });
  app.post('/_emulator/reset', (req, res) => {
    server.storage.userMessages = [];
    server.storage.botMessages = [];
    state.calls = [];
    state.deliveries = [];
    state.chats.clear();
    state.commands.clear();
    res.json({ ok: true, result: true });
  });

  // Everything else: telegram-test-api's own app (client routes, setWebhook, its 404).
  app.use(server.webServer);

  return { server, state, app };
}

// ---------------------------------------------------------------- main

async function main() {
  const opts = parseOptions(process.argv.slice(2), process.env);
  const { server, state, app } = createEmulator(opts);
  const httpServer = http.createServer(app);
  httpServer.keepAliveTimeout = 65000;

  await new Promise((resolve, reject) => {
    httpServer.once('error', reject);
    httpServer.listen(opts.port, opts.host, resolve);
  });
  const { port } = httpServer.address();
  // Keep the package's own view (its client and apiURL) consistent with where we listen.
  server.config.port = port;
  server.config.apiURL = `${server.config.protocol}://${opts.host}:${port}`;
  server.server = httpServer;
  server.started = true;
  server.cleanUpDaemon();

  let stopping = false;
  const shutdown = (why) => {
    if (stopping) return;
    stopping = true;
    state.shuttingDown = true;
    process.stderr.write(`telegram-test-api emulator stopping (${why})\n`);
    for (const wake of [...state.pollWaiters]) wake();
    if (server.cleanUpDaemonInterval) clearInterval(server.cleanUpDaemonInterval);
    httpServer.close(() => process.exit(0));
    if (httpServer.closeAllConnections) httpServer.closeAllConnections();
    setTimeout(() => process.exit(0), 1500).unref();
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGHUP', () => shutdown('SIGHUP'));
  if (opts.exitWithStdin) {
    // The harness holds our stdin open; when it dies, however it dies, stdin closes and we go too.
    process.stdin.on('end', () => shutdown('stdin closed'));
    process.stdin.on('close', () => shutdown('stdin closed'));
    process.stdin.on('error', () => shutdown('stdin error'));
    process.stdin.resume();
  }
  process.on('unhandledRejection', (err) => {
    process.stderr.write(`unhandled rejection in emulator: ${err && err.stack ? err.stack : err}\n`);
  });

  const host = opts.host.includes(':') ? `[${opts.host}]` : opts.host;
  const root = `http://${host}:${port}`;
  process.stdout.write(`${READY_PREFIX} ${JSON.stringify({
    port, host: opts.host, pid: process.pid, client_url: root, base_url: `${root}/bot`, base_file_url: `${root}/file/bot`,
  })}\n`);
}

if (require.main === module) {
  main().catch((err) => {
    process.stderr.write(`emulator failed to start: ${err && err.stack ? err.stack : err}\n`);
    process.exit(1);
  });
}

module.exports = { createEmulator, parseOptions, READY_PREFIX };
