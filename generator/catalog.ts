/**
 * The synthetic TripClick "catalog": SQL expression builders that turn numeric keys
 * (document ids, query ranks, session keys, event keys) into realistic strings.
 * Everything is a pure function of its inputs (DuckDB `hash`), so the batch generator
 * and live mode describe the same documents and queries, and a seed reproduces a run.
 * Shape follows spec/tripclick-facts.md.
 */

/** Lowest and highest TripClick DocumentId seen in the published logs. */
export const DOC_ID_MIN = 96_657;
export const DOC_ID_MAX = 11_707_140;
const DOC_ID_SPAN = DOC_ID_MAX - DOC_ID_MIN + 1; // 11,610,484 = 2^2 * 1277 * 2273
/** Documents clicked or retrieved in TripClick. Popularity ranks are 0..DOC_COUNT-1. */
export const DOC_COUNT = 2_347_977;
/** Multiplier of the rank -> document id permutation (coprime with DOC_ID_SPAN). */
const DOC_PERM_MUL = 7_368_791;
const DOC_PERM_ADD = 4_211_009;
/** Popularity exponent: rank = floor(DOC_COUNT * u^DOC_ZIPF). Larger = heavier head. */
export const DOC_ZIPF = 2.6;
/** Share of clicks on long-tail documents (outside the popular catalogue). */
export const DOC_TAIL_SHARE = 0.25;
/** Query popularity: rank = floor(QUERY_SPACE * u^QUERY_ZIPF). */
export const QUERY_SPACE = 40_000_000;
export const QUERY_ZIPF = 2.16;

/** `hash(hash(args))`: DuckDB's multi-argument hash is poorly mixed; re-hashing decorrelates. */
export function H(...args: (string | number)[]): string {
  return `hash(hash(${args.join(', ')}))`;
}
/** Uniform DOUBLE in [0, 1) from `H(args)`. */
export function U(...args: (string | number)[]): string {
  return `((${H(...args)} >> 11)::DOUBLE / 9007199254740992.0)`;
}
/** Integer in [0, n) from `H(args)`. */
export function N(n: number, ...args: (string | number)[]): string {
  return `(${H(...args)} % ${n})::BIGINT`;
}

function sqlList(values: readonly string[]): string {
  return `[${values.map((v) => `'${v.replace(/'/g, "''")}'`).join(', ')}]`;
}
/** Word lists live in DuckDB variables (see `catalogSetupSql`) to keep the SQL text small. */
const LIST_VARIABLES = new Map<readonly string[], string>();
/** `list[1 + idx]` of a registered word list. */
function pick(values: readonly string[], idxExpr: string): string {
  const name = LIST_VARIABLES.get(values);
  if (!name) throw new Error('catalog: word list not registered');
  return `getvariable('${name}')[1 + (${idxExpr})]`;
}

export const CLINICAL_AREAS = [
  'Primary Care', 'Cardiology', 'Oncology', 'Pediatrics', 'Psychiatry', 'Infectious Disease',
  'Endocrinology', 'Neurology', 'Surgery', 'Emergency Medicine', 'OB-Gyn', 'Pulmonology',
  'Geriatrics', 'Gastroenterology', 'Critical Care', "Women's Health", 'Rheumatology',
  'Orthopedic', 'Hematology', 'Dermatology', 'Urology', 'Physical Medicine', 'Anesthesiology',
  'Ophthalmology', 'Otolaryngology-ENT', 'Radiology', 'Dentistry',
] as const;
export const LEGACY_AREA_TOKENS = ['obgyn', 'emergencymedicine', 'sports_medicine', 'public_health', 'epidemiology'] as const;

const CONDITIONS = [
  'type 2 diabetes', 'hypertension', 'atrial fibrillation', 'heart failure', 'asthma', 'COPD',
  'community-acquired pneumonia', 'sepsis', 'depression', 'generalized anxiety disorder', 'schizophrenia',
  'bipolar disorder', 'dementia', "Alzheimer's disease", "Parkinson's disease", 'multiple sclerosis',
  'migraine', 'epilepsy', 'stroke', 'acute myocardial infarction', 'stable angina', 'venous thromboembolism',
  'pulmonary embolism', 'chronic kidney disease', 'urinary tract infection', 'osteoarthritis of the knee',
  'rheumatoid arthritis', 'osteoporosis', 'low back pain', 'gout', 'psoriasis', 'atopic dermatitis', 'acne',
  'breast cancer', 'prostate cancer', 'colorectal cancer', 'non-small cell lung cancer', 'melanoma',
  'acute otitis media', 'bronchiolitis', 'obesity', 'gestational diabetes', 'pre-eclampsia', 'preterm birth',
  'postpartum haemorrhage', 'polycystic ovary syndrome', 'endometriosis', 'menopausal symptoms', 'HIV infection',
  'hepatitis C', 'tuberculosis', 'influenza', 'COVID-19', 'malaria', 'irritable bowel syndrome',
  "Crohn's disease", 'ulcerative colitis', 'gastro-oesophageal reflux disease', 'peptic ulcer bleeding',
  'cirrhosis', 'anaemia', 'sickle cell disease', 'hypothyroidism', 'diabetic foot ulcer', 'chronic pain',
  'delirium', 'falls in older people', 'ADHD', 'autism spectrum disorder', 'glaucoma',
  'age-related macular degeneration', 'cataract', 'chronic rhinosinusitis', 'tonsillitis', 'otitis externa',
  'hip fracture', 'rotator cuff tear', 'benign prostatic hyperplasia', 'erectile dysfunction',
  'periodontitis', 'dental caries', 'alcohol use disorder', 'smoking cessation', 'insomnia', 'septic shock',
  'acute kidney injury', 'plantar fasciitis',
] as const;
const INTERVENTIONS = [
  'metformin', 'insulin glargine', 'SGLT2 inhibitors', 'GLP-1 receptor agonists', 'statins', 'aspirin',
  'warfarin', 'apixaban', 'rivaroxaban', 'beta-blockers', 'ACE inhibitors', 'amlodipine', 'inhaled corticosteroids',
  'tiotropium', 'amoxicillin', 'azithromycin', 'antibiotics', 'probiotics', 'vitamin D supplementation',
  'omega-3 fatty acids', 'cognitive behavioural therapy', 'mindfulness-based interventions', 'exercise therapy',
  'physiotherapy', 'acupuncture', 'SSRIs', 'sertraline', 'ketamine', 'antipsychotics', 'lithium', 'melatonin',
  'gabapentin', 'opioids', 'paracetamol', 'ibuprofen', 'corticosteroids', 'methotrexate', 'biologic therapy',
  'immunotherapy', 'chemotherapy', 'radiotherapy', 'laparoscopic surgery', 'bariatric surgery',
  'total knee replacement', 'early mobilisation', 'telemonitoring', 'school-based programmes',
  'nurse-led care', 'self-management education', 'low-dose CT screening', 'HPV vaccination',
  'influenza vaccination', 'oxytocin', 'magnesium sulphate', 'progesterone', 'iron supplementation',
  'proton pump inhibitors', 'tranexamic acid', 'dexamethasone', 'hydroxychloroquine', 'remdesivir',
  'nicotine replacement therapy', 'varenicline', 'brief alcohol interventions', 'compression stockings',
  'honey', 'zinc', 'topical NSAIDs', 'fluoride varnish', 'hearing aids',
] as const;
const POPULATIONS = [
  'adults', 'children', 'older people', 'pregnant women', 'adolescents', 'primary care patients',
  'hospitalised patients', 'critically ill adults', 'preterm infants', 'nursing home residents',
  'people with type 2 diabetes', 'women', 'men', 'outpatients', 'low-income countries',
] as const;
const STUDY_TYPES = [
  'a systematic review and meta-analysis', 'a randomized controlled trial', 'a cluster randomised trial',
  'a Cochrane review', 'a cohort study', 'a nested case-control study', 'a network meta-analysis',
  'an umbrella review', 'clinical practice guideline', 'a cost-effectiveness analysis',
  'a pragmatic trial', 'a prospective observational study', 'a population-based study',
  'evidence summary', 'an individual patient data meta-analysis',
] as const;
const DESIGNS = [
  'Efficacy and safety of', 'Effectiveness of', 'Comparative effectiveness of', 'Long-term outcomes of',
  'Cost-effectiveness of', 'Adverse effects of', 'Early versus delayed', 'Adherence to',
  'Risk of bleeding with', 'Mortality associated with',
] as const;
const OTHER_SITES = [
  'https://www.nice.org.uk/guidance/ng', 'https://www.cochranelibrary.com/cdsr/doi/10.1002/14651858.CD00',
  'http://www.bmj.com/content/', 'https://www.sign.ac.uk/our-guidelines/', 'https://cks.nice.org.uk/topics/t',
  'http://www.cadth.ca/media/pdf/', 'https://www.guidelinecentral.com/summaries/', 'http://www.who.int/publications/i/item/',
  'https://www.aafp.org/afp/', 'http://www.ahrq.gov/research/findings/evidence-based-reports/er',
] as const;
/** Single words for queries (medical terms first, then general words). */
const QUERY_WORDS = [
  'diabetes', 'hypertension', 'asthma', 'copd', 'pneumonia', 'sepsis', 'depression', 'anxiety', 'dementia',
  'stroke', 'migraine', 'epilepsy', 'heart', 'failure', 'atrial', 'fibrillation', 'cancer', 'breast', 'prostate',
  'lung', 'colorectal', 'melanoma', 'otitis', 'media', 'bronchiolitis', 'obesity', 'pregnancy', 'preeclampsia',
  'labour', 'postpartum', 'pcos', 'endometriosis', 'menopause', 'hiv', 'hepatitis', 'tuberculosis', 'influenza',
  'covid', 'covid-19', 'malaria', 'ibs', 'crohn', 'colitis', 'gord', 'cirrhosis', 'anaemia', 'thyroid',
  'hypothyroidism', 'ulcer', 'pain', 'chronic', 'acute', 'delirium', 'falls', 'adhd', 'autism', 'glaucoma',
  'cataract', 'sinusitis', 'tonsillitis', 'fracture', 'hip', 'knee', 'shoulder', 'back', 'osteoarthritis',
  'osteoporosis', 'gout', 'psoriasis', 'eczema', 'acne', 'urti', 'uti', 'ckd', 'aki', 'dvt', 'pe', 'mi', 'angina',
  'insomnia', 'alcohol', 'smoking', 'cessation', 'vitamin', 'd', 'metformin', 'insulin', 'statin', 'statins',
  'aspirin', 'warfarin', 'apixaban', 'doac', 'antibiotics', 'amoxicillin', 'probiotics', 'steroids',
  'corticosteroids', 'ssri', 'sertraline', 'ketamine', 'lithium', 'melatonin', 'gabapentin', 'opioids',
  'paracetamol', 'ibuprofen', 'nsaids', 'methotrexate', 'vaccine', 'vaccination', 'hpv', 'exercise',
  'physiotherapy', 'acupuncture', 'cbt', 'mindfulness', 'surgery', 'laparoscopic', 'bariatric', 'screening',
  'children', 'child', 'infants', 'neonates', 'elderly', 'older', 'adults', 'women', 'men', 'pregnant',
  'treatment', 'management', 'diagnosis', 'prevention', 'risk', 'prognosis', 'guideline', 'guidelines',
  'systematic', 'review', 'meta-analysis', 'rct', 'trial', 'cochrane', 'effectiveness', 'safety', 'dose',
  'duration', 'versus', 'vs', 'and', 'in', 'for', 'of', 'with', 'after', 'during', 'home', 'care', 'primary',
  'hospital', 'icu', 'nurse', 'telehealth', 'education', 'adherence', 'cost', 'mortality', 'outcomes',
  'side', 'effects', 'bleeding', 'infection', 'wound', 'dressing', 'honey', 'zinc', 'fluoride', 'dental',
  'caries', 'hearing', 'loss', 'tinnitus', 'vertigo', 'headache', 'cough', 'fever', 'rash', 'sore', 'throat',
] as const;
const TITLE_FILLER = [
  'multicentre', 'international', 'collaborative', 'group', 'investigators', 'protocol', 'update', 'secondary',
  'analysis', 'follow-up', 'extension', 'phase', 'III', 'double-blind', 'placebo-controlled', 'open-label',
  'non-inferiority', 'study', 'registry', 'consortium', 'network', 'working', 'party', 'statement',
] as const;

const DOI_PREFIXES = ['j.', 's', 'bmj.', 'CD00', 'NEJMoa', 'jama.'] as const;
const SESSION_ALPHABET = 'abcdefghijklmnopqrstuvwxyz012345';
const SESSION_PAIRS: string[] = [];
for (const x of SESSION_ALPHABET) for (const y of SESSION_ALPHABET) SESSION_PAIRS.push(x + y);

const NAMED_LISTS: Record<string, readonly string[]> = {
  tmg_clinical_areas: CLINICAL_AREAS,
  tmg_legacy_areas: LEGACY_AREA_TOKENS,
  tmg_conditions: CONDITIONS,
  tmg_interventions: INTERVENTIONS,
  tmg_populations: POPULATIONS,
  tmg_study_types: STUDY_TYPES,
  tmg_designs: DESIGNS,
  tmg_other_sites: OTHER_SITES,
  tmg_query_words: QUERY_WORDS,
  tmg_title_filler: TITLE_FILLER,
  tmg_doi_prefixes: DOI_PREFIXES,
  tmg_session_pairs: SESSION_PAIRS,
};
for (const [name, values] of Object.entries(NAMED_LISTS)) LIST_VARIABLES.set(values, name);

/** Statements to run once on a connection before it uses the catalog's SQL expressions. */
export function catalogSetupSql(): string[] {
  return Object.entries(NAMED_LISTS).map(([name, values]) => `SET VARIABLE ${name} = ${sqlList(values)}`);
}

/** Document id for a popularity rank (a bijection on [0, DOC_ID_SPAN)). */
export function docIdForRankSql(rankExpr: string): string {
  return `(${DOC_ID_MIN} + ((${rankExpr})::BIGINT * ${DOC_PERM_MUL} + ${DOC_PERM_ADD}) % ${DOC_ID_SPAN})::INTEGER`;
}
/** Same mapping in JS (live mode). */
export function docIdForRank(rank: number): number {
  return DOC_ID_MIN + Number((BigInt(rank) * BigInt(DOC_PERM_MUL) + BigInt(DOC_PERM_ADD)) % BigInt(DOC_ID_SPAN));
}
/** Heavy-tailed popularity rank from a uniform. */
/**
 * Popularity rank of a clicked document from two uniforms: with probability
 * DOC_TAIL_SHARE a document of the long tail (ranks DOC_COUNT.., mostly clicked once),
 * else a heavy-headed pick among the DOC_COUNT catalogue documents.
 */
export function docRankSql(u1: string, u2: string): string {
  return (
    `(CASE WHEN ${u1} < ${DOC_TAIL_SHARE} THEN ${DOC_COUNT} + floor(${u2} * ${DOC_ID_SPAN - DOC_COUNT}) ` +
    `ELSE LEAST(${DOC_COUNT - 1}, floor(${DOC_COUNT} * pow(${u2}, ${DOC_ZIPF}))) END)::BIGINT`
  );
}
export function docRank(u1: number, u2: number): number {
  if (u1 < DOC_TAIL_SHARE) return DOC_COUNT + Math.floor(u2 * (DOC_ID_SPAN - DOC_COUNT));
  return Math.min(DOC_COUNT - 1, Math.floor(DOC_COUNT * Math.pow(u2, DOC_ZIPF)));
}
export function queryRankSql(uniformExpr: string): string {
  return `floor(${QUERY_SPACE} * pow(${uniformExpr}, ${QUERY_ZIPF}))::BIGINT`;
}
export function queryRank(u: number): number {
  return Math.floor(QUERY_SPACE * Math.pow(u, QUERY_ZIPF));
}

/*
 * Document and query strings are built in five SELECT layers (so that no expression is
 * evaluated twice): 1. base hashes (`docBaseHashSql`, `queryBaseHashSql`), 2. derived
 * hashes (`docHashColumnsSql`, `queryHashColumnsSql`), 3. derived numbers
 * (`docDerivedColumnsSql`, `queryDerivedColumnsSql`), 3b. joined word lists
 * (`docCoreColumnsSql`, `queryCoreColumnsSql`), 4. strings (`docAttributeSql`,
 * `keywordsSql`). Each layer selects `*` from the one below.
 */

/** Layer 1: the base 64-bit hash `dhb` of a document id. */
export function docBaseHashSql(docExpr: string, p = 'dh'): string {
  return `${H(docExpr, 1000)} AS ${p}b`;
}
/** Layer 2: independent 64-bit hashes `dh0..dh10` from the base column of `docBaseHashSql`. */
export function docHashColumnsSql(p = 'dh'): string {
  return Array.from({ length: 11 }, (_, k) => `hash(xor(${p}b, ${k + 1}::UBIGINT)) AS ${p}${k}`).join(', ');
}

/** u in [0,1) from a precomputed 64-bit hash column, using bits [shift, shift+bits). */
function bitsU(col: string, shift: number, bits = 20): string {
  return `(((${col} >> ${shift}) & ${2 ** bits - 1})::DOUBLE / ${2 ** bits}.0)`;
}
/** First letter upper-cased ('metformin' -> 'Metformin'; 'SGLT2 inhibitors' unchanged). */
function cap(x: string): string {
  return `(upper(left(${x}, 1)) || substr(${x}, 2))`;
}
/** Cheap skew of a uniform towards 0 (u * (0.35 + 0.65 u)), keeps [0, 1). */
function skew(u: string): string {
  return `(${u} * (0.35 + 0.65 * ${u}))`;
}
function bitsN(col: string, shift: number, n: number): string {
  return `(((${col} >> ${shift}) & 1048575) % ${n})::BIGINT`;
}

/**
 * SELECT-list fragment of per-document derived numbers (middle query layer, over the
 * columns of `docHashColumnsSql`): kind, number of clinical areas, quirks.
 */
export function docDerivedColumnsSql(p = 'dh'): string {
  const h = (k: number) => `${p}${k}`;
  const ca = bitsU(h(0), 20);
  return [
    `${bitsU(h(0), 0)} AS ${p}_kind`, // < 0.80 pubmed, < 0.91 clinicaltrials, rest other
    `${ca} AS ${p}_ca`,
    // clinical areas: none 13% (mostly '', some NULL), one 42%, two 31%, rest 3..16
    `(CASE WHEN ${ca} < 0.13 THEN 0 WHEN ${ca} < 0.55 THEN 1 WHEN ${ca} < 0.86 THEN 2 ELSE 3 + floor(14 * pow(${bitsU(h(0), 40)}, 2.5))::INTEGER END) AS ${p}_nareas`,
    `${bitsN(h(5), 20, 100)} AS ${p}_quirk`, // 0-2 spaces, 3-4 repeated name, 5-9 legacy token (older docs)
  ].join(', ');
}

/** Exactly `n` items joined by `sep`, item j from `item(j)` (n in 1..max; else NULL). */
function joinFirstN(n: string, max: number, sep: string, item: (j: number) => string): string {
  const branches: string[] = [];
  for (let k = 1; k <= max; k++) {
    const parts: string[] = [];
    for (let j = 0; j < k; j++) parts.push(j === 0 ? item(0) : `${sep}, ${item(j)}`);
    branches.push(`WHEN ${k} THEN concat(${parts.join(', ')})`);
  }
  return `CASE ${n} ${branches.join(' ')} END`;
}

/** Layer 3b: the clinical area names of a document joined by ',' (`dh_areas`), and the first one. */
export function docCoreColumnsSql(p = 'dh'): string {
  const h = (k: number) => `${p}${k}`;
  // up to 16 names, 10 hash bits each (6 per 64-bit column), skewed towards the common areas
  const areaName = (j: number) =>
    pick(CLINICAL_AREAS, `floor(${CLINICAL_AREAS.length} * ${skew(bitsU(h(8 + Math.floor(j / 6)), 10 * (j % 6), 10))})::INTEGER`);
  return `${joinFirstN(`${p}_nareas`, 16, "','", areaName)} AS ${p}_areas, ${areaName(0)} AS ${p}_area0`;
}

/**
 * Expressions for url, title, doi and clinical_areas (outer layer), over the columns of
 * `docHashColumnsSql`, `docDerivedColumnsSql` and `docCoreColumnsSql`.
 */
export function docAttributeSql(docExpr: string, p = 'dh'): { url: string; title: string; doi: string; clinicalAreas: string } {
  const h = (k: number) => `${p}${k}`;
  const kind = `${p}_kind`;
  const cond = pick(CONDITIONS, bitsN(h(1), 0, CONDITIONS.length));
  const cond2 = pick(CONDITIONS, bitsN(h(1), 20, CONDITIONS.length));
  const interv = pick(INTERVENTIONS, bitsN(h(1), 40, INTERVENTIONS.length));
  const interv2 = pick(INTERVENTIONS, bitsN(h(2), 0, INTERVENTIONS.length));
  const pop = pick(POPULATIONS, bitsN(h(2), 20, POPULATIONS.length));
  const study = pick(STUDY_TYPES, bitsN(h(2), 40, STUDY_TYPES.length));
  const design = pick(DESIGNS, bitsN(h(3), 0, DESIGNS.length));
  const tpl = bitsN(h(3), 20, 8);
  const pubmedTitle =
    `CASE ${tpl} ` +
    `WHEN 0 THEN ${design} || ' ' || ${interv} || ' for ' || ${cond} || ': ' || ${study} || '.' ` +
    `WHEN 1 THEN ${cap(interv)} || ' versus ' || ${interv2} || ' in ' || ${pop} || ' with ' || ${cond} || ': ' || ${study} || '.' ` +
    `WHEN 2 THEN ${cap(interv)} || ' for ' || ${cond} || ' in ' || ${pop} || '.' ` +
    `WHEN 3 THEN 'Association between ' || ${cond2} || ' and ' || ${cond} || ' in ' || ${pop} || ': ' || ${study} || '.' ` +
    `WHEN 4 THEN 'Management of ' || ${cond} || ' in ' || ${pop} || '.' ` +
    `WHEN 5 THEN ${design} || ' ' || ${interv} || ' in ' || ${pop} || ' with ' || ${cond} || '.' ` +
    `WHEN 6 THEN ${cap(cond)} || ': ' || ${study} || '.' ` +
    `ELSE 'Incidence and risk factors of ' || ${cond} || ' among ' || ${pop} || '.' END`;
  const trialTitle =
    `CASE ${bitsN(h(3), 40, 3)} ` +
    `WHEN 0 THEN 'A Study of ' || ${interv} || ' in ' || ${pop} || ' With ' || ${cond} ` +
    `WHEN 1 THEN ${cap(interv)} || ' Compared With ' || ${interv2} || ' for ' || ${cond} ` +
    `ELSE 'Safety and Efficacy of ' || ${interv} || ' in ' || ${cond} END`;
  const otherTitle =
    `CASE ${bitsN(h(4), 0, 4)} ` +
    `WHEN 0 THEN ${cap(cond)} || ': diagnosis and management' ` +
    `WHEN 1 THEN ${cap(interv)} || ' for ' || ${cond} || ' - evidence summary' ` +
    `WHEN 2 THEN 'Clinical guideline: ' || ${cond} || ' in ' || ${pop} ` +
    `ELSE ${cap(cond)} || ' - clinical knowledge summary' END`;
  const baseTitle = `CASE WHEN ${kind} < 0.80 THEN ${pubmedTitle} WHEN ${kind} < 0.91 THEN ${trialTitle} ELSE ${otherTitle} END`;
  // about 1 document click in 50,000 carries an over-long (> 500 characters) title
  const longTail =
    `array_to_string(list_transform(range(70 + ${bitsN(h(4), 20, 40)}), j -> ` +
    `getvariable('tmg_title_filler')[1 + (hash(xor(${h(4)}, j::UBIGINT)) % ${TITLE_FILLER.length})::BIGINT]), ' ')`;
  const title =
    `CASE WHEN ${bitsU(h(5), 0)} < 0.012 THEN '' ` +
    `WHEN ${h(5)} % 50000 = 7 THEN ${baseTitle} || ' ' || ${longTail} ` +
    `ELSE ${baseTitle} END`;

  const pmid = `(1000000 + ${h(6)} % 32000000)`;
  const url =
    `CASE WHEN ${kind} < 0.80 THEN 'http://www.ncbi.nlm.nih.gov/pubmed/' || ${pmid} ` +
    `WHEN ${kind} < 0.91 THEN 'http://clinicaltrials.gov/show/NCT0' || lpad(((${h(6)} >> 20) % 4999999)::VARCHAR, 7, '0') ` +
    `ELSE ${pick(OTHER_SITES, bitsN(h(6), 44, OTHER_SITES.length))} || (${docExpr} % 9973)::VARCHAR END`;
  const doi =
    `CASE WHEN ${kind} < 0.80 AND ${bitsU(h(7), 0)} < 0.35 THEN '10.' || (1000 + ${bitsN(h(7), 20, 9000)})::VARCHAR || '/' || ` +
    `${pick(DOI_PREFIXES, bitsN(h(7), 40, DOI_PREFIXES.length))} || (${h(6)} % 9999991)::VARCHAR ` +
    `WHEN ${kind} >= 0.91 AND ${bitsU(h(7), 0)} < 0.10 THEN '10.1002/14651858.CD00' || (${h(6)} % 9999)::VARCHAR ` +
    `WHEN ${bitsU(h(7), 0)} > 0.998 THEN NULL ELSE '' END`;

  const ca = `${p}_ca`;
  const nAreas = `${p}_nareas`;
  const core = `${p}_areas`; // from docCoreColumnsSql
  const quirk = `${p}_quirk`;
  const legacy = pick(LEGACY_AREA_TOKENS, bitsN(h(5), 40, LEGACY_AREA_TOKENS.length));
  const joined =
    `CASE WHEN ${quirk} < 3 THEN ', ' || replace(${core}, ',', ' , ') ` +
    `WHEN ${quirk} < 5 THEN ',' || ${core} || ',' || ${p}_area0 ` +
    `WHEN ${quirk} < 10 AND ${docExpr} < 4000000 THEN ',' || ${core} || ',' || ${legacy} ` +
    `ELSE ',' || ${core} END`;
  const clinicalAreas = `CASE WHEN ${ca} < 0.13 THEN (CASE WHEN ${ca} < 0.035 THEN NULL ELSE '' END) ELSE ${joined} END`;
  return { url, title, doi, clinicalAreas };
}

/** Layer 1: the base 64-bit hash `qhb` of a query rank. */
export function queryBaseHashSql(rankExpr: string, p = 'qh'): string {
  return `${H(rankExpr, 2000)} AS ${p}b`;
}
/** Layer 2: hashes `qh0..qh4` from the base column of `queryBaseHashSql`. */
export function queryHashColumnsSql(p = 'qh'): string {
  return Array.from({ length: 5 }, (_, k) => `hash(xor(${p}b, ${k + 1}::UBIGINT)) AS ${p}${k}`).join(', ');
}

const MAX_QUERY_WORDS = 15;

/**
 * The query text (keywords) of a query rank: ~4.4 words (sd ~2.4), popular queries
 * are short, some carry operators (`title:`, `AND`, `OR`, `from:2011`); cut at 100 chars.
 */
export function queryDerivedColumnsSql(rankExpr: string, p = 'qh'): string {
  const h0 = `${p}0`;
  const h1 = `${p}1`;
  // approx. normal from the sum of 4 uniforms (sd 1)
  const z = `((${bitsU(h0, 0)} + ${bitsU(h0, 20)} + ${bitsU(h0, 40)} + ${bitsU(h1, 0)} - 2.0) * 1.7320508)`;
  // tail queries have >= 2 words: one-word queries are the popular ranks (see keywordsSql)
  const nWords = `GREATEST(2, LEAST(${MAX_QUERY_WORDS}, round(4.3 + 2.4 * ${z})))::INTEGER`;
  return `${nWords} AS ${p}_n, ${bitsN(h1, 20, 1000)} AS ${p}_op`;
}

/** Layer 3b: the words of a (tail) query joined by ' ' (`qh_words`). */
export function queryCoreColumnsSql(p = 'qh'): string {
  // word j: 12 hash bits (5 per 64-bit column qh2..qh4), skewed towards the first (medical) words
  const word = (j: number) =>
    pick(QUERY_WORDS, `floor(${QUERY_WORDS.length} * ${skew(bitsU(`${p}${2 + Math.floor(j / 5)}`, 12 * (j % 5), 12))})::INTEGER`);
  return `${joinFirstN(`${p}_n`, MAX_QUERY_WORDS, "' '", word)} AS ${p}_words`;
}

/** Distinct one-word and two-word texts of the most popular query ranks. */
const POPULAR_WORDS = 120;

/**
 * Keywords expression (outer layer) over `queryHashColumnsSql`, `queryDerivedColumnsSql` and
 * `queryCoreColumnsSql` columns. The most popular ranks are distinct plain one- and two-word queries
 * ('diabetes', 'asthma children'); the others are hashed word lists.
 */
export function keywordsSql(rankExpr: string, p = 'qh'): string {
  const v = QUERY_WORDS.length;
  const m = POPULAR_WORDS;
  const h1 = `${p}1`;
  const nWords = `${p}_n`;
  const words = `${p}_words`; // from queryCoreColumnsSql: words joined by ' '
  const op = `${p}_op`;
  const year = `(2005 + ${bitsN(h1, 40, 16)})::VARCHAR`;
  const text =
    `CASE WHEN ${op} < 25 THEN 'title:' || ${words} ` +
    `WHEN ${op} < 45 THEN replace(${words}, ' ', ' AND ') ` +
    `WHEN ${op} < 55 THEN replace(${words}, ' ', ' OR ') ` +
    `WHEN ${op} < 75 THEN ${words} || ' from:' || ${year} ` +
    `WHEN ${op} < 80 THEN '(' || ${words} || ')' ` +
    `ELSE ${words} END`;
  const popular =
    `CASE WHEN ${rankExpr} < ${v} THEN ${pick(QUERY_WORDS, `${rankExpr}::INTEGER`)} ` +
    `WHEN ${rankExpr} < ${v + m * m} THEN ${pick(QUERY_WORDS, `((${rankExpr} - ${v}) // ${m})::INTEGER`)} || ' ' || ${pick(QUERY_WORDS, `((${rankExpr} - ${v}) % ${m})::INTEGER`)} ` +
    `ELSE left(${text}, 100) END`;
  return popular;
}

/** A 24-character TripClick-like session id (a-z, 0-5) from two 64-bit hash columns (12 x 10 bits). */
export function sessionIdSql(h1: string, h2: string): string {
  const parts: string[] = [];
  for (let k = 0; k < 12; k++) {
    const col = k < 6 ? h1 : h2;
    parts.push(pick(SESSION_PAIRS, `((${col} >> ${10 * (k % 6)}) & 1023)::INTEGER`));
  }
  return `concat(${parts.join(', ')})`;
}
/** JS version for live mode. */
export function sessionIdFromRandom(rand: () => number): string {
  let s = '';
  for (let k = 0; k < 24; k++) s += SESSION_ALPHABET[Math.floor(rand() * 32)];
  return s;
}

/**
 * A 32-hex dedup key, unique per global event number `g` by construction: 22 hex digits of
 * hash, then 10 digits of a bijection of g on 40 bits.
 */
export function dedupKeySql(hashCol: string, gExpr: string): string {
  // 6364137 * 2^40 < 2^63: no BIGINT overflow; odd multiplier: a bijection modulo 2^40
  return `printf('%016x%06x%010x', ${hashCol}, hash(xor(${hashCol}, 3::UBIGINT)) >> 40, ((${gExpr})::BIGINT * 6364137 + 550455919003) % 1099511627776)`;
}
