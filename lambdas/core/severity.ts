/** GuardDuty severity bands: Low 1.0–3.9, Medium 4.0–6.9, High 7.0–8.9, Critical 9.0–10.0. */
export type SeverityLabel = 'Low' | 'Medium' | 'High' | 'Critical';

export function severityLabel(severity: number): SeverityLabel {
  if (severity >= 9) return 'Critical';
  if (severity >= 7) return 'High';
  if (severity >= 4) return 'Medium';
  return 'Low';
}
