
SET statement_timeout = 0;
SET lock_timeout = 0;
SET idle_in_transaction_session_timeout = 0;
SET client_encoding = 'UTF8';
SET standard_conforming_strings = on;
SET check_function_bodies = false;
SET xmloption = content;
SET client_min_messages = warning;
SET row_security = off;

SET default_tablespace = '';

SET default_table_access_method = heap;

CREATE TABLE public.alembic_version (
    version_num character varying(32) NOT NULL
);

CREATE TABLE public.analytics_conversations (
    id integer NOT NULL,
    conversation_key character varying(64) NOT NULL,
    person_key character varying(64) NOT NULL,
    caller_key character varying(64),
    first_event_id integer NOT NULL,
    last_event_id integer NOT NULL,
    channel character varying(20) NOT NULL,
    started_at timestamp without time zone NOT NULL,
    ended_at timestamp without time zone NOT NULL,
    duration_seconds double precision NOT NULL,
    turns integer NOT NULL,
    first_intent character varying(100),
    main_intent character varying(100),
    intents text NOT NULL,
    min_confidence double precision,
    outcome character varying(20) NOT NULL,
    handover_service character varying(100),
    satisfaction character varying(3)
);

CREATE SEQUENCE public.analytics_conversations_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;

ALTER SEQUENCE public.analytics_conversations_id_seq OWNED BY public.analytics_conversations.id;

CREATE TABLE public.analytics_state (
    name character varying(50) NOT NULL,
    value integer NOT NULL
);

CREATE TABLE public.analytics_turns (
    id integer NOT NULL,
    conversation_id integer NOT NULL,
    conversation_key character varying(64) NOT NULL,
    event_id integer NOT NULL,
    at timestamp without time zone NOT NULL,
    intent character varying(100),
    confidence double precision,
    fallback boolean NOT NULL,
    responses text NOT NULL,
    feedback character varying(3)
);

CREATE SEQUENCE public.analytics_turns_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;

ALTER SEQUENCE public.analytics_turns_id_seq OWNED BY public.analytics_turns.id;

CREATE TABLE public.answer_feedback (
    id integer NOT NULL,
    sender_id character varying(255) NOT NULL,
    channel character varying(50),
    intent character varying(100),
    helpful boolean,
    comment text,
    created_at timestamp without time zone NOT NULL
);

CREATE SEQUENCE public.answer_feedback_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;

ALTER SEQUENCE public.answer_feedback_id_seq OWNED BY public.answer_feedback.id;

CREATE TABLE public.article (
    id integer NOT NULL,
    slug character varying(120) NOT NULL,
    topic character varying(60) NOT NULL,
    title character varying(300) NOT NULL,
    body text NOT NULL,
    keywords json NOT NULL,
    related json NOT NULL,
    source character varying(300) NOT NULL,
    updated_at date NOT NULL,
    show_updated_at boolean NOT NULL,
    synced_at timestamp without time zone NOT NULL,
    search_vector tsvector
);

CREATE SEQUENCE public.article_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;

ALTER SEQUENCE public.article_id_seq OWNED BY public.article.id;

CREATE TABLE public.contact_history (
    id integer NOT NULL,
    person_key character varying(64) NOT NULL,
    conversation_key character varying(64) NOT NULL,
    session_start timestamp without time zone NOT NULL,
    channel character varying(50),
    reasons text NOT NULL,
    outcome character varying(20),
    service character varying(100),
    created_at timestamp without time zone NOT NULL,
    updated_at timestamp without time zone NOT NULL
);

CREATE SEQUENCE public.contact_history_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;

ALTER SEQUENCE public.contact_history_id_seq OWNED BY public.contact_history.id;

CREATE TABLE public.handover_requests (
    id integer NOT NULL,
    sender_id character varying(255) NOT NULL,
    channel character varying(50),
    kind character varying(20) NOT NULL,
    service character varying(100) NOT NULL,
    summary text NOT NULL,
    name character varying(200),
    phone character varying(20),
    reason text,
    callback_at timestamp without time zone,
    created_at timestamp without time zone NOT NULL
);

CREATE SEQUENCE public.handover_requests_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;

ALTER SEQUENCE public.handover_requests_id_seq OWNED BY public.handover_requests.id;

CREATE TABLE public.kb_version (
    id integer NOT NULL,
    created_at timestamp without time zone NOT NULL,
    checksum character varying(64) NOT NULL,
    source character varying(500) NOT NULL,
    counts json NOT NULL,
    changes json NOT NULL,
    snapshot json NOT NULL
);

CREATE SEQUENCE public.kb_version_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;

ALTER SEQUENCE public.kb_version_id_seq OWNED BY public.kb_version.id;

CREATE TABLE public.model_deployments (
    id integer NOT NULL,
    model_file text NOT NULL,
    kind character varying(16) NOT NULL,
    intent_macro_f1 double precision,
    entity_macro_f1 double precision,
    emergency_ok boolean,
    forced boolean NOT NULL,
    by character varying(100) NOT NULL,
    at timestamp without time zone NOT NULL,
    holdout_fingerprint character varying(16),
    figures json,
    loaded boolean NOT NULL,
    note text NOT NULL
);

CREATE SEQUENCE public.model_deployments_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;

ALTER SEQUENCE public.model_deployments_id_seq OWNED BY public.model_deployments.id;

CREATE TABLE public.model_evaluations (
    id integer NOT NULL,
    model character varying(200) NOT NULL,
    holdout_fingerprint character varying(16) NOT NULL,
    figures json NOT NULL,
    report_dir text NOT NULL,
    at timestamp without time zone NOT NULL
);

CREATE SEQUENCE public.model_evaluations_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;

ALTER SEQUENCE public.model_evaluations_id_seq OWNED BY public.model_evaluations.id;

CREATE TABLE public.opening_hours (
    id integer NOT NULL,
    place_id integer NOT NULL,
    weekday smallint NOT NULL,
    opens time without time zone NOT NULL,
    closes time without time zone NOT NULL
);

CREATE SEQUENCE public.opening_hours_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;

ALTER SEQUENCE public.opening_hours_id_seq OWNED BY public.opening_hours.id;

CREATE TABLE public.organisation (
    id integer NOT NULL,
    name character varying(200) NOT NULL,
    short_name character varying(80) NOT NULL,
    address character varying(300) NOT NULL,
    switchboard_phone character varying(40) NOT NULL,
    switchboard_hours character varying(120) NOT NULL,
    patient_portal character varying(120) NOT NULL
);

CREATE SEQUENCE public.organisation_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;

ALTER SEQUENCE public.organisation_id_seq OWNED BY public.organisation.id;

CREATE TABLE public.place (
    id integer NOT NULL,
    slug character varying(80) NOT NULL,
    name character varying(200) NOT NULL,
    synonyms json NOT NULL,
    location character varying(200),
    phone character varying(40),
    always_open boolean NOT NULL,
    note text
);

CREATE SEQUENCE public.place_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;

ALTER SEQUENCE public.place_id_seq OWNED BY public.place.id;

CREATE TABLE public.studio_audit (
    id integer NOT NULL,
    at timestamp without time zone NOT NULL,
    username character varying(64) NOT NULL,
    action character varying(100) NOT NULL,
    target text NOT NULL,
    detail json
);

CREATE SEQUENCE public.studio_audit_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;

ALTER SEQUENCE public.studio_audit_id_seq OWNED BY public.studio_audit.id;

CREATE TABLE public.studio_inbox_decisions (
    id integer NOT NULL,
    key character varying(300) NOT NULL,
    kind character varying(20) NOT NULL,
    intent character varying(100),
    text text NOT NULL,
    file character varying(200),
    username character varying(64) NOT NULL,
    at timestamp without time zone NOT NULL
);

CREATE SEQUENCE public.studio_inbox_decisions_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;

ALTER SEQUENCE public.studio_inbox_decisions_id_seq OWNED BY public.studio_inbox_decisions.id;

CREATE TABLE public.studio_jobs (
    id integer NOT NULL,
    kind character varying(20) NOT NULL,
    status character varying(12) NOT NULL,
    step text NOT NULL,
    percent integer NOT NULL,
    log_tail text NOT NULL,
    result json,
    error text,
    username character varying(64) NOT NULL,
    created_at timestamp without time zone NOT NULL,
    started_at timestamp without time zone,
    finished_at timestamp without time zone
);

CREATE SEQUENCE public.studio_jobs_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;

ALTER SEQUENCE public.studio_jobs_id_seq OWNED BY public.studio_jobs.id;

CREATE TABLE public.studio_users (
    id integer NOT NULL,
    username character varying(64) NOT NULL,
    password_hash character varying(255) NOT NULL,
    role character varying(20) NOT NULL,
    active boolean NOT NULL,
    failed_logins integer NOT NULL,
    locked_until timestamp without time zone,
    created_at timestamp without time zone NOT NULL,
    last_login_at timestamp without time zone,
    session_epoch integer DEFAULT 0 NOT NULL
);

CREATE SEQUENCE public.studio_users_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;

ALTER SEQUENCE public.studio_users_id_seq OWNED BY public.studio_users.id;

CREATE TABLE public.visiting_rule (
    id integer NOT NULL,
    ward_id integer NOT NULL,
    "position" smallint NOT NULL,
    audience character varying(120) NOT NULL,
    all_day boolean NOT NULL,
    opens time without time zone,
    closes time without time zone,
    max_visitors smallint,
    min_age smallint
);

CREATE SEQUENCE public.visiting_rule_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;

ALTER SEQUENCE public.visiting_rule_id_seq OWNED BY public.visiting_rule.id;

CREATE TABLE public.ward (
    id integer NOT NULL,
    slug character varying(80) NOT NULL,
    name character varying(200) NOT NULL,
    synonyms json NOT NULL,
    is_default boolean NOT NULL,
    note text
);

CREATE SEQUENCE public.ward_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;

ALTER SEQUENCE public.ward_id_seq OWNED BY public.ward.id;

ALTER TABLE ONLY public.analytics_conversations ALTER COLUMN id SET DEFAULT nextval('public.analytics_conversations_id_seq'::regclass);

ALTER TABLE ONLY public.analytics_turns ALTER COLUMN id SET DEFAULT nextval('public.analytics_turns_id_seq'::regclass);

ALTER TABLE ONLY public.answer_feedback ALTER COLUMN id SET DEFAULT nextval('public.answer_feedback_id_seq'::regclass);

ALTER TABLE ONLY public.article ALTER COLUMN id SET DEFAULT nextval('public.article_id_seq'::regclass);

ALTER TABLE ONLY public.contact_history ALTER COLUMN id SET DEFAULT nextval('public.contact_history_id_seq'::regclass);

ALTER TABLE ONLY public.handover_requests ALTER COLUMN id SET DEFAULT nextval('public.handover_requests_id_seq'::regclass);

ALTER TABLE ONLY public.kb_version ALTER COLUMN id SET DEFAULT nextval('public.kb_version_id_seq'::regclass);

ALTER TABLE ONLY public.model_deployments ALTER COLUMN id SET DEFAULT nextval('public.model_deployments_id_seq'::regclass);

ALTER TABLE ONLY public.model_evaluations ALTER COLUMN id SET DEFAULT nextval('public.model_evaluations_id_seq'::regclass);

ALTER TABLE ONLY public.opening_hours ALTER COLUMN id SET DEFAULT nextval('public.opening_hours_id_seq'::regclass);

ALTER TABLE ONLY public.organisation ALTER COLUMN id SET DEFAULT nextval('public.organisation_id_seq'::regclass);

ALTER TABLE ONLY public.place ALTER COLUMN id SET DEFAULT nextval('public.place_id_seq'::regclass);

ALTER TABLE ONLY public.studio_audit ALTER COLUMN id SET DEFAULT nextval('public.studio_audit_id_seq'::regclass);

ALTER TABLE ONLY public.studio_inbox_decisions ALTER COLUMN id SET DEFAULT nextval('public.studio_inbox_decisions_id_seq'::regclass);

ALTER TABLE ONLY public.studio_jobs ALTER COLUMN id SET DEFAULT nextval('public.studio_jobs_id_seq'::regclass);

ALTER TABLE ONLY public.studio_users ALTER COLUMN id SET DEFAULT nextval('public.studio_users_id_seq'::regclass);

ALTER TABLE ONLY public.visiting_rule ALTER COLUMN id SET DEFAULT nextval('public.visiting_rule_id_seq'::regclass);

ALTER TABLE ONLY public.ward ALTER COLUMN id SET DEFAULT nextval('public.ward_id_seq'::regclass);

INSERT INTO public.alembic_version VALUES ('0001');

INSERT INTO public.analytics_conversations VALUES (1, 'cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc', 'pppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppp', NULL, 1, 42, 'web', '2026-11-30 09:30:00', '2026-11-30 09:30:00', 12.5, 1, 'greet', 'ask_visiting_hours', '["greet"]', 0.9, 'answered', NULL, 'oui');

INSERT INTO public.analytics_state VALUES ('events', 42);

INSERT INTO public.analytics_turns VALUES (1, 1, 'cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc', 3, '2026-11-30 09:30:00', 'greet', 0.9, false, '["utter_greet"]', NULL);

INSERT INTO public.answer_feedback VALUES (1, 's1', 'rest', 'ask_visiting_hours', true, NULL, '2026-11-30 09:30:00');

INSERT INTO public.article VALUES (1, 'preparation-operation', 'operation', 'Se préparer à une opération', 'Venez à jeun.', '["jeun"]', '[]', 'articles/op.md', '2026-11-01', true, '2026-11-30 09:30:00', '''jeun'':8 ''oper'':5 ''prépar'':2 ''ven'':6');

INSERT INTO public.contact_history VALUES (1, 'pppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppp', 'cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc', '2026-11-30 09:30:00', 'voice', 'ask_visiting_hours', 'callback', 'consultations', '2026-11-30 09:30:00', '2026-11-30 09:30:00');

INSERT INTO public.handover_requests VALUES (1, 's2', 'voice', 'callback', 'consultations', 'Rappel pour un rendez-vous', 'Mme Test', '0601020304', 'rendez-vous', '2026-11-30 09:30:00', '2026-11-30 09:30:00');

INSERT INTO public.kb_version VALUES (1, '2026-11-30 09:30:00', 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa', 'kb_content', '{"article": 1}', '{"added": ["preparation-operation"]}', '{"articles": []}');

INSERT INTO public.model_deployments VALUES (1, '/models/m.tar.gz', 'initial', 0.9, 0.8, NULL, false, 'admin', '2026-11-30 09:30:00', 'ffffffffffffffff', '{"intent_macro_f1": 0.9}', true, '');

INSERT INTO public.model_evaluations VALUES (1, 'm.tar.gz', 'ffffffffffffffff', '{"intent_macro_f1": 0.9}', '', '2026-11-30 09:30:00');

INSERT INTO public.opening_hours VALUES (1, 1, 0, '08:00:00', '18:00:00');

INSERT INTO public.organisation VALUES (1, 'Centre hospitalier de Test', 'CH Test', '1 rue de l''Hôpital', '01 02 03 04 05', '24h/24', 'https://portail.example');

INSERT INTO public.place VALUES (1, 'accueil', 'Accueil principal', '["hall"]', 'Rez-de-chaussée', '01 02 03 04 06', false, NULL);

INSERT INTO public.studio_audit VALUES (1, '2026-11-30 09:30:00', 'admin', 'login', '', '{"ip": "127.0.0.1"}');

INSERT INTO public.studio_inbox_decisions VALUES (1, 'k1', 'ignore', NULL, 'bonjour', NULL, 'admin', '2026-11-30 09:30:00');

INSERT INTO public.studio_jobs VALUES (1, 'train', 'done', 'Terminé', 100, 'ok', '{"model": "m.tar.gz"}', NULL, 'admin', '2026-11-30 09:30:00', '2026-11-30 09:30:00', '2026-11-30 09:30:00');

INSERT INTO public.studio_users VALUES (1, 'admin', '$argon2id$v=19$m=65536,t=3,p=4$x$y', 'admin', true, 0, NULL, '2026-11-30 09:30:00', '2026-11-30 09:30:00', 1);

INSERT INTO public.visiting_rule VALUES (1, 1, 0, 'Tous', false, '14:00:00', '20:00:00', 2, 12);

INSERT INTO public.ward VALUES (1, 'maternite', 'Maternité', '["naissance"]', false, 'Calme');

SELECT pg_catalog.setval('public.analytics_conversations_id_seq', 1, true);

SELECT pg_catalog.setval('public.analytics_turns_id_seq', 1, true);

SELECT pg_catalog.setval('public.answer_feedback_id_seq', 1, true);

SELECT pg_catalog.setval('public.article_id_seq', 1, true);

SELECT pg_catalog.setval('public.contact_history_id_seq', 1, true);

SELECT pg_catalog.setval('public.handover_requests_id_seq', 1, true);

SELECT pg_catalog.setval('public.kb_version_id_seq', 1, true);

SELECT pg_catalog.setval('public.model_deployments_id_seq', 1, true);

SELECT pg_catalog.setval('public.model_evaluations_id_seq', 1, true);

SELECT pg_catalog.setval('public.opening_hours_id_seq', 1, true);

SELECT pg_catalog.setval('public.organisation_id_seq', 1, true);

SELECT pg_catalog.setval('public.place_id_seq', 1, true);

SELECT pg_catalog.setval('public.studio_audit_id_seq', 1, true);

SELECT pg_catalog.setval('public.studio_inbox_decisions_id_seq', 1, true);

SELECT pg_catalog.setval('public.studio_jobs_id_seq', 1, true);

SELECT pg_catalog.setval('public.studio_users_id_seq', 1, true);

SELECT pg_catalog.setval('public.visiting_rule_id_seq', 1, true);

SELECT pg_catalog.setval('public.ward_id_seq', 1, true);

ALTER TABLE ONLY public.alembic_version
    ADD CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num);

ALTER TABLE ONLY public.analytics_conversations
    ADD CONSTRAINT analytics_conversations_conversation_key_first_event_id_key UNIQUE (conversation_key, first_event_id);

ALTER TABLE ONLY public.analytics_conversations
    ADD CONSTRAINT analytics_conversations_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.analytics_state
    ADD CONSTRAINT analytics_state_pkey PRIMARY KEY (name);

ALTER TABLE ONLY public.analytics_turns
    ADD CONSTRAINT analytics_turns_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.answer_feedback
    ADD CONSTRAINT answer_feedback_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.article
    ADD CONSTRAINT article_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.article
    ADD CONSTRAINT article_slug_key UNIQUE (slug);

ALTER TABLE ONLY public.contact_history
    ADD CONSTRAINT contact_history_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.handover_requests
    ADD CONSTRAINT handover_requests_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.kb_version
    ADD CONSTRAINT kb_version_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.model_deployments
    ADD CONSTRAINT model_deployments_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.model_evaluations
    ADD CONSTRAINT model_evaluations_model_holdout_fingerprint_key UNIQUE (model, holdout_fingerprint);

ALTER TABLE ONLY public.model_evaluations
    ADD CONSTRAINT model_evaluations_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.opening_hours
    ADD CONSTRAINT opening_hours_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.organisation
    ADD CONSTRAINT organisation_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.place
    ADD CONSTRAINT place_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.place
    ADD CONSTRAINT place_slug_key UNIQUE (slug);

ALTER TABLE ONLY public.studio_audit
    ADD CONSTRAINT studio_audit_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.studio_inbox_decisions
    ADD CONSTRAINT studio_inbox_decisions_key_key UNIQUE (key);

ALTER TABLE ONLY public.studio_inbox_decisions
    ADD CONSTRAINT studio_inbox_decisions_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.studio_jobs
    ADD CONSTRAINT studio_jobs_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.studio_users
    ADD CONSTRAINT studio_users_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.studio_users
    ADD CONSTRAINT studio_users_username_key UNIQUE (username);

ALTER TABLE ONLY public.contact_history
    ADD CONSTRAINT uq_contact_session UNIQUE (conversation_key, session_start);

ALTER TABLE ONLY public.visiting_rule
    ADD CONSTRAINT visiting_rule_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.ward
    ADD CONSTRAINT ward_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.ward
    ADD CONSTRAINT ward_slug_key UNIQUE (slug);

CREATE INDEX ix_analytics_conversations_caller_key ON public.analytics_conversations USING btree (caller_key);

CREATE INDEX ix_analytics_conversations_conversation_key ON public.analytics_conversations USING btree (conversation_key);

CREATE INDEX ix_analytics_conversations_main_intent ON public.analytics_conversations USING btree (main_intent);

CREATE INDEX ix_analytics_conversations_person_key ON public.analytics_conversations USING btree (person_key);

CREATE INDEX ix_analytics_conversations_started_at ON public.analytics_conversations USING btree (started_at);

CREATE INDEX ix_analytics_turns_conversation_id ON public.analytics_turns USING btree (conversation_id);

CREATE INDEX ix_answer_feedback_sender_id ON public.answer_feedback USING btree (sender_id);

CREATE INDEX ix_article_search_vector ON public.article USING gin (search_vector);

CREATE INDEX ix_article_topic ON public.article USING btree (topic);

CREATE INDEX ix_contact_history_person_key ON public.contact_history USING btree (person_key);

CREATE INDEX ix_handover_requests_sender_id ON public.handover_requests USING btree (sender_id);

CREATE INDEX ix_kb_version_checksum ON public.kb_version USING btree (checksum);

CREATE INDEX ix_opening_hours_place_id ON public.opening_hours USING btree (place_id);

CREATE INDEX ix_studio_audit_at ON public.studio_audit USING btree (at);

CREATE INDEX ix_visiting_rule_ward_id ON public.visiting_rule USING btree (ward_id);

ALTER TABLE ONLY public.analytics_turns
    ADD CONSTRAINT analytics_turns_conversation_id_fkey FOREIGN KEY (conversation_id) REFERENCES public.analytics_conversations(id) ON DELETE CASCADE;

ALTER TABLE ONLY public.opening_hours
    ADD CONSTRAINT opening_hours_place_id_fkey FOREIGN KEY (place_id) REFERENCES public.place(id) ON DELETE CASCADE;

ALTER TABLE ONLY public.visiting_rule
    ADD CONSTRAINT visiting_rule_ward_id_fkey FOREIGN KEY (ward_id) REFERENCES public.ward(id) ON DELETE CASCADE;

