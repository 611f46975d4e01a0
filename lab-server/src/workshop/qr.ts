// The join link as a QR code: in the instructor's terminal when the workshop starts, and on
// the dashboard, for a room to scan from the projector.
import QRCode from 'qrcode';

/** Half-block characters: two rows of modules per line, so the code stays square and small. */
export function qrTerminal(text: string): Promise<string> {
  return QRCode.toString(text, { type: 'terminal', small: true, errorCorrectionLevel: 'M' });
}

export function qrSvg(text: string): Promise<string> {
  return QRCode.toString(text, { type: 'svg', margin: 2, errorCorrectionLevel: 'M' });
}
