import type { SupportClientFrame, SupportServerFrame } from "@switchboard/shared";

type IceServers = RTCIceServer[];

/**
 * A support session's socket with the WebRTC screen share on top. The caller offers (it has the screen);
 * the technician answers. Signalling goes through Switchboard; the video goes browser to browser (with
 * TURN when configured).
 */
export class SupportConnection {
  readonly ws: WebSocket;
  private pc: RTCPeerConnection | null = null;
  private readonly ice: IceServers;
  private readonly onFrame: (f: SupportServerFrame) => void;
  private stream: MediaStream | null = null;
  onRemoteStream: ((s: MediaStream) => void) | null = null;

  constructor(path: string, ice: IceServers, onFrame: (f: SupportServerFrame) => void, token?: string) {
    const proto = window.location.protocol === "https:" ? "wss:" : "ws:";
    this.ws = new WebSocket(`${proto}//${window.location.host}/api/v1${path}`);
    this.ice = ice;
    this.onFrame = onFrame;
    this.ws.onopen = () => {
      if (token) this.send({ t: "auth", token });
    };
    this.ws.onmessage = (ev) => {
      const f = JSON.parse(String(ev.data)) as SupportServerFrame;
      if (f.t === "signal") void this.onSignal(f.data);
      else this.onFrame(f);
    };
  }

  send(f: SupportClientFrame) {
    if (this.ws.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(f));
  }

  /** Caller: share `stream` (from getDisplayMedia) with the technician; again when they reconnect. */
  async offer(stream: MediaStream) {
    this.stream = stream;
    const pc = this.newPeer();
    for (const track of stream.getTracks()) pc.addTrack(track, stream);
    const offer = await pc.createOffer();
    await pc.setLocalDescription(offer);
    this.send({ t: "signal", data: { type: "offer", sdp: offer.sdp } });
  }

  get sharing() {
    return this.stream !== null;
  }

  stopSharing() {
    for (const t of this.stream?.getTracks() ?? []) t.stop();
    this.stream = null;
    this.pc?.close();
    this.pc = null;
  }

  close() {
    this.stopSharing();
    this.ws.close();
  }

  private newPeer() {
    this.pc?.close();
    const pc = new RTCPeerConnection({ iceServers: this.ice });
    pc.onicecandidate = (e) => {
      if (e.candidate)
        this.send({ t: "signal", data: { type: "candidate", candidate: e.candidate.toJSON() } });
    };
    pc.ontrack = (e) => {
      const s = e.streams[0] ?? new MediaStream([e.track]);
      this.onRemoteStream?.(s);
    };
    this.pc = pc;
    return pc;
  }

  private async onSignal(data: Record<string, unknown>) {
    if (data.type === "offer") {
      const pc = this.newPeer();
      await pc.setRemoteDescription({ type: "offer", sdp: String(data.sdp) });
      const answer = await pc.createAnswer();
      await pc.setLocalDescription(answer);
      this.send({ t: "signal", data: { type: "answer", sdp: answer.sdp } });
    } else if (data.type === "answer") {
      await this.pc?.setRemoteDescription({ type: "answer", sdp: String(data.sdp) });
    } else if (data.type === "candidate" && data.candidate) {
      await this.pc?.addIceCandidate(data.candidate as RTCIceCandidateInit).catch(() => {});
    }
  }

  /** The technician came (back): a caller who is sharing offers again. */
  async reoffer() {
    if (this.stream) await this.offer(this.stream);
  }
}
