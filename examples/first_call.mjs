// The first call of practice software, in Node 20 with no dependencies (built-in fetch):
// open a patient's record by INS and list the sections this practitioner may see.
//
//   DMP_URL=https://dmp.example.fr DMP_TOKEN=dmp_… node examples/first_call.mjs INS [--entries N]
//
// Same output as examples/practice_client.py. Exit status: 0, 1 on an API error, 2 on bad usage.

const SECTION_FIELDS = {
  MEDICATIONS: "medications", MEDICAL_DEVICES: "medicalDevices", PROCEDURES: "procedures",
  IMAGING: "imaging", LAB_RESULTS: "labResults", HOSPITAL_STAYS: "hospitalStays",
  MEDICAL_HISTORY: "medicalHistory", ALLERGIES: "allergies", VACCINATIONS: "vaccinations",
  DOCUMENTS: "documents",
};
// `first` is written into the query text, as the guide advises (docs/api.md §5): the cost
// limit counts a page size passed as a variable as 100, whatever its value. Ten sections of
// 100 entries with these few fields cost about 5,000 of the 10,000 allowed.
const MAX_ENTRIES = 100;  // the largest page (`first`)
const CONNECTION = "(first: ENTRIES) { totalCount edges { node { date title } } }";
const QUERY = `query PatientSections($ins: String!) {
  patientRecord(ins: $ins) {
    firstName lastName birthDate status accessMode
    sectionAccess { section mode }
${Object.values(SECTION_FIELDS).map((field) => `    ${field}${CONNECTION}\n`).join("")}    emergencyProfile { bloodGroup }
  }
}
`;

class ApiError extends Error {}

async function call(url, token, query, variables) {
  const response = await fetch(`${url.replace(/\/+$/, "")}/graphql`, {
    method: "POST",
    headers: { "Content-Type": "application/json", Authorization: `Bearer ${token}` },
    body: JSON.stringify({ query, variables }),
    signal: AbortSignal.timeout(30_000),
  });
  let body;
  try {
    body = await response.json();
  } catch {
    throw new ApiError(`HTTP ${response.status}: not a GraphQL response`);
  }
  const errors = body.errors ?? [];
  if (errors.length > 0) {
    throw new ApiError(`${errors[0].extensions?.code ?? "ERROR"}: ${errors[0].message}`);
  }
  if (!response.ok) throw new ApiError(`HTTP ${response.status}`);
  return body.data;
}

function describe(record, entries) {
  const lines = [
    `${record.firstName} ${record.lastName.toUpperCase()}, born ${record.birthDate} — ` +
      `record ${record.status}, access ${record.accessMode}`,
  ];
  for (const { section, mode } of record.sectionAccess) {
    const field = SECTION_FIELDS[section];
    if (field === undefined) {
      // EMERGENCY: the emergency profile, not a list of entries
      const blood = record.emergencyProfile?.bloodGroup || "unknown";
      lines.push(`${section.padEnd(16)} ${mode.padEnd(20)} blood group ${blood}`);
      continue;
    }
    const connection = record[field];
    const count = connection.totalCount;
    lines.push(`${section.padEnd(16)} ${mode.padEnd(20)} ${count} ${count === 1 ? "entry" : "entries"}`);
    for (const edge of connection.edges.slice(0, entries)) {
      lines.push(`    ${edge.node.date}  ${edge.node.title}`);
    }
  }
  return lines;
}

async function main(argv) {
  const args = argv.slice(2);
  let entries = 0;
  const at = args.indexOf("--entries");
  if (at !== -1) {
    entries = Number.parseInt(args[at + 1], 10);
    args.splice(at, 2);
  }
  const [ins] = args;
  if (!ins || args.length !== 1 || Number.isNaN(entries)) {
    console.error("usage: node examples/first_call.mjs INS [--entries N]");
    return 2;
  }
  const url = process.env.DMP_URL;
  const token = process.env.DMP_TOKEN;
  if (!url || !token) {
    console.error("set DMP_URL (e.g. https://dmp.example.fr) and DMP_TOKEN");
    return 2;
  }
  let data;
  try {
    const first = Math.max(0, Math.min(entries, MAX_ENTRIES));
    data = await call(url, token, QUERY.replaceAll("ENTRIES", String(first)), { ins });
  } catch (error) {
    if (error instanceof ApiError) console.error(`error ${error.message}`);
    else console.error(`error: cannot reach ${url}: ${error.message}`);
    return 1;
  }
  console.log(describe(data.patientRecord, entries).join("\n"));
  return 0;
}

process.exitCode = await main(process.argv);
