// navan-voice call page: joins the traveler's own room, talks to the agent, shows captions,
// the agent's state and its avatar, and lets the traveler type or share their screen.
import {
  ConnectionState,
  LocalVideoTrack,
  type Participant,
  type RemoteParticipant,
  type RemoteTrack,
  Room,
  RoomEvent,
  Track,
} from "livekit-client";

interface TokenResponse {
  server_url: string;
  room_name: string;
  participant_identity: string;
  participant_token: string;
  expires_in_s: number;
}

// what the end-to-end tests (and curious developers) can read from the page
interface CallDebug {
  room?: Room;
  roomName?: string;
  agentIdentity?: string;
  agentState: string;
  captions: { speaker: string; text: string; final: boolean }[];
  avatarTrack: boolean;
  micError?: string;
  contextSent: boolean;
}
declare global {
  interface Window { navanCall: CallDebug }
}

const $ = <T extends HTMLElement>(id: string): T => document.getElementById(id) as T;
const params = new URLSearchParams(location.search);
const debug: CallDebug = { agentState: "disconnected", captions: [], avatarTrack: false,
  contextSent: false };
window.navanCall = debug;

const segments = new Map<string, { el: HTMLParagraphElement; index: number }>();
let room: Room | undefined;
let screenCanvasTimer: number | undefined;

function notice(text: string): void {
  const el = $("notice");
  el.textContent = text;
  el.hidden = !text;
}

function setAgentState(state: string): void {
  if (debug.agentState === "disconnected" || debug.agentState === "joining") {
    // the agent's session is up (it publishes its state): typed messages now reach it
    for (const id of ["chat-text", "chat-send"]) $<HTMLButtonElement>(id).disabled = false;
  }
  debug.agentState = state;
  $("agent-state").textContent = state;
  $("call").dataset.state = state;
}

function caption(id: string, speaker: "user" | "agent", text: string, final: boolean): void {
  let seg = segments.get(id);
  if (!seg) {
    const el = document.createElement("p");
    el.className = speaker;
    el.innerHTML = `<b>${speaker === "user" ? "You" : "Agent"}:</b> <span></span>`;
    $("captions").appendChild(el);
    seg = { el, index: debug.captions.push({ speaker, text, final }) - 1 };
    segments.set(id, seg);
  }
  (seg.el.querySelector("span") as HTMLSpanElement).textContent = text;
  seg.el.classList.toggle("interim", !final);
  debug.captions[seg.index] = { speaker, text, final };
  $("captions").scrollTop = $("captions").scrollHeight;
}

function isAgent(p: Participant): boolean {
  return p.isAgent || p.attributes["lk.agent.state"] !== undefined;
}

async function sendPageContext(agent: RemoteParticipant): Promise<void> {
  // the trip the traveler has open on this page, used by the agent at once
  const ctx = JSON.parse($("page-context").textContent || "{}") as Record<string, unknown>;
  ctx.page = location.pathname;
  for (let attempt = 0; attempt < 20 && room; attempt++) {
    try {
      await room.localParticipant.performRpc({
        destinationIdentity: agent.identity, method: "navan.page_context",
        payload: JSON.stringify(ctx),
      });
      debug.contextSent = true;
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 500)); // the agent registers it when it starts
    }
  }
}

function onAgent(agent: RemoteParticipant): void {
  if (debug.agentIdentity) return;
  debug.agentIdentity = agent.identity;
  const state = agent.attributes["lk.agent.state"];
  if (state) setAgentState(state);
  else {
    debug.agentState = "joining";
    $("agent-state").textContent = "agent joining";
  }
  void sendPageContext(agent);
}

// a rendered "booking error" page, published as the screen share (test mode, ?fakeScreen=1):
// headless browsers have no screen to capture
function fakeScreenTrack(): MediaStreamTrack {
  const canvas = document.createElement("canvas");
  canvas.width = 1280;
  canvas.height = 720;
  const g = canvas.getContext("2d") as CanvasRenderingContext2D;
  const draw = () => {
    g.fillStyle = "#ffffff";
    g.fillRect(0, 0, canvas.width, canvas.height);
    g.fillStyle = "#b00020";
    g.font = "bold 64px sans-serif";
    g.fillText("Booking error", 80, 180);
    g.fillStyle = "#000000";
    g.font = "44px sans-serif";
    g.fillText(params.get("screenText") || "Payment declined for hotel HTL-48213", 80, 300);
    g.fillText("Error code E-4021", 80, 380);
  };
  draw();
  screenCanvasTimer = window.setInterval(draw, 500);
  return canvas.captureStream(5).getVideoTracks()[0];
}

async function toggleShare(): Promise<void> {
  if (!room) return;
  const lp = room.localParticipant;
  const on = lp.isScreenShareEnabled || !!lp.getTrackPublication(Track.Source.ScreenShare);
  if (on) {
    const pub = lp.getTrackPublication(Track.Source.ScreenShare);
    if (pub?.track) await lp.unpublishTrack(pub.track);
    if (screenCanvasTimer) window.clearInterval(screenCanvasTimer);
    $("share").textContent = "Share screen";
    return;
  }
  try {
    if (params.get("fakeScreen") === "1") {
      const track = new LocalVideoTrack(fakeScreenTrack());
      await lp.publishTrack(track, { source: Track.Source.ScreenShare, name: "screen" });
    } else {
      await lp.setScreenShareEnabled(true);
    }
    $("share").textContent = "Stop sharing";
  } catch (e) {
    notice(`Screen sharing did not start (${(e as Error).message}). You can keep talking.`);
  }
}

async function start(): Promise<void> {
  $<HTMLButtonElement>("start").disabled = true;
  notice("");
  const res = await fetch("/api/token", { method: "POST", headers: { "content-type":
    "application/json" }, body: "{}" });
  if (!res.ok) {
    const body = await res.json().catch(() => ({ error: res.statusText }));
    notice(`Could not start the call: ${body.error}`);
    $<HTMLButtonElement>("start").disabled = false;
    return;
  }
  const tok = (await res.json()) as TokenResponse;
  room = new Room({ adaptiveStream: false, dynacast: true });
  debug.room = room;
  debug.roomName = tok.room_name;
  room
    .on(RoomEvent.ParticipantConnected, (p) => { if (isAgent(p)) onAgent(p); })
    .on(RoomEvent.ParticipantAttributesChanged, (_changed, p) => {
      if (p !== room?.localParticipant && isAgent(p)) {
        onAgent(p as RemoteParticipant);
        setAgentState(p.attributes["lk.agent.state"] || debug.agentState);
      }
    })
    .on(RoomEvent.TrackSubscribed, (track: RemoteTrack, _pub, p: RemoteParticipant) => {
      if (track.kind === Track.Kind.Video && isAgent(p)) {
        track.attach($<HTMLVideoElement>("avatar"));
        debug.avatarTrack = true;
      } else if (track.kind === Track.Kind.Audio) {
        track.attach($<HTMLAudioElement>("agent-audio"));
      }
    })
    .on(RoomEvent.Disconnected, () => {
      debug.agentState = "disconnected";
      $("agent-state").textContent = "disconnected";
      $<HTMLButtonElement>("start").disabled = false;
      for (const id of ["share", "hangup", "chat-text", "chat-send"]) {
        $<HTMLButtonElement>(id).disabled = true;
      }
    });
  room.registerTextStreamHandler("lk.transcription", async (reader, who) => {
    const attrs = reader.info.attributes ?? {};
    const id = attrs["lk.segment_id"] || reader.info.id;
    const speaker = who.identity === room?.localParticipant.identity ? "user" : "agent";
    let text = "";
    for await (const chunk of reader) {
      text += chunk;
      caption(id, speaker, text, false);
    }
    caption(id, speaker, text, attrs["lk.transcription_final"] !== "false" || speaker === "agent");
  });

  await room.connect(tok.server_url, tok.participant_token);
  for (const p of room.remoteParticipants.values()) if (isAgent(p)) onAgent(p);
  for (const id of ["share", "hangup"]) $<HTMLButtonElement>(id).disabled = false;
  try {
    await room.localParticipant.setMicrophoneEnabled(true);
  } catch (e) {
    debug.micError = (e as Error).name || "error";
    notice("Your browser did not let this page use the microphone, so the agent cannot hear " +
      "you. Allow the microphone in the address bar and start again — or type your question " +
      "in the box below (it opens as soon as the agent joins); the agent answers in text " +
      "and voice.");
  }
  if ($<HTMLInputElement>("use-camera").checked) {
    await room.localParticipant.setCameraEnabled(true).catch(() =>
      notice("The camera could not start; the call goes on without it."));
  }
  if (params.get("autoShare") === "1") await toggleShare();
}

async function sendChat(ev: Event): Promise<void> {
  ev.preventDefault();
  const input = $<HTMLInputElement>("chat-text");
  const text = input.value.trim();
  if (!text || !room || room.state !== ConnectionState.Connected) return;
  input.value = "";
  await room.localParticipant.sendText(text, { topic: "lk.chat" });
  caption(`chat-${Date.now()}`, "user", text, true);
}

$("start").addEventListener("click", () => { void start().catch((e) => {
  notice(`The call failed to start: ${(e as Error).message}`);
  $<HTMLButtonElement>("start").disabled = false;
}); });
$("share").addEventListener("click", () => void toggleShare());
$("hangup").addEventListener("click", () => void room?.disconnect());
$("chat").addEventListener("submit", (ev) => void sendChat(ev));
