// The baseline of `cargo xtask bench`: the platform's plain chat room, in
// the manner of Cloudflare's workers-chat-demo. One Durable Object holds the
// subscribers (hibernating WebSockets and SSE streams) and broadcasts each
// message to all of them, storing nothing first.
//   GET  /health       plain request, no Durable Object
//   POST /room/send    broadcasts the body, answers 201
//   GET  /room/events  SSE subscribe
//   GET  /room/ws      WebSocket subscribe; a text message broadcasts
import { DurableObject } from "cloudflare:workers";

const encoder = new TextEncoder();

export class Room extends DurableObject {
  streams = new Set();

  broadcast(text) {
    for (const ws of this.ctx.getWebSockets()) {
      try { ws.send(text); } catch { /* closed */ }
    }
    const frame = encoder.encode(`data: ${text}\n\n`);
    for (const writer of this.streams) {
      writer.write(frame).catch(() => this.streams.delete(writer));
    }
  }

  async fetch(request) {
    const { pathname } = new URL(request.url);
    if (pathname === "/room/send" && request.method === "POST") {
      this.broadcast(await request.text());
      return new Response('{"ok":true}', { status: 201, headers: { "content-type": "application/json" } });
    }
    if (pathname === "/room/events") {
      const { readable, writable } = new TransformStream();
      const writer = writable.getWriter();
      this.streams.add(writer);
      writer.write(encoder.encode("data: subscribed\n\n"));
      return new Response(readable, { headers: { "content-type": "text/event-stream", "cache-control": "no-cache" } });
    }
    if (pathname === "/room/ws" && request.headers.get("upgrade") === "websocket") {
      const [client, server] = Object.values(new WebSocketPair());
      this.ctx.acceptWebSocket(server);
      return new Response(null, { status: 101, webSocket: client });
    }
    return new Response("not found", { status: 404 });
  }

  webSocketMessage(ws, message) {
    this.broadcast(typeof message === "string" ? message : new TextDecoder().decode(message));
  }

  webSocketClose(ws, code) {
    try { ws.close(code, "bye"); } catch { /* already closed */ }
  }
}

export default {
  async fetch(request, env) {
    const { pathname } = new URL(request.url);
    if (pathname === "/health") {
      return new Response('{"status":"ok"}', { headers: { "content-type": "application/json" } });
    }
    if (pathname.startsWith("/room/")) {
      return env.ROOM.get(env.ROOM.idFromName("bench")).fetch(request);
    }
    return new Response("not found", { status: 404 });
  },
};
