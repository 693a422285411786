package eventgen

var (
	firstNames = []string{"Ava", "Liam", "Maya", "Noah", "Priya", "Lucas", "Sofia", "Ethan", "Amara", "Mateo",
		"Hana", "Oliver", "Chloe", "Arjun", "Ines", "Kenji", "Zara", "Felix", "Leila", "Diego"}
	lastNames = []string{"Patel", "Nguyen", "Garcia", "Kim", "Okafor", "Schmidt", "Rossi", "Haddad", "Silva", "Cohen",
		"Tanaka", "Murphy", "Novak", "Larsen", "Mensah", "Dubois", "Kowalski", "Reyes", "Ahmed", "Walsh"}
	// Non-ASCII names and text for the edge cases.
	intlFirstNames = []string{"Zoë", "Łukasz", "Søren", "José", "Ngọc", "Юлия", "美咲", "Đorđe", "Çağla", "Aoife"}
	intlLastNames  = []string{"Łukasiewicz", "Müller", "Ørsted", "Muñoz", "Trần", "Иванова", "佐藤", "Đoković", "Yılmaz", "Ó Briain"}
	intlPhrases    = []string{
		"Le paiement a échoué après la mise à jour 🙁",
		"Die Synchronisierung hängt seit gestern – bitte prüfen.",
		"请尽快处理这个问题，客户在等待。",
		"ログインできません。パスワードをリセットしても同じです。",
		"Сервис недоступен с 09:00 по московскому времени.",
		"Ödeme sayfası açılmıyor, teşekkürler! 🎉",
		"\"Quoted\" text, a backslash \\ and a tab\tinside.",
	}
	companyWords = []string{"Acme", "Globex", "Initech", "Umbrella", "Stark", "Wayne", "Hooli", "Vandelay", "Cyberdyne",
		"Soylent", "Tyrell", "Wonka", "Aperture", "Massive", "Dunder", "Pied", "Gringotts", "Oscorp", "Nakatomi", "Monarch"}
	companySuffixes = []string{"Labs", "Systems", "Health", "Logistics", "Capital", "Retail", "Analytics", "Cloud", "Foods", "Energy"}
	industries      = []string{"Software", "Healthcare", "Financial Services", "Retail", "Manufacturing", "Education", "Logistics", "Media"}
	sizes           = []string{"1-10", "11-50", "51-200", "201-1000", "1001-5000", "5000+"}
	accountStatuses = []string{"ACTIVE", "ONBOARDING", "CHURNED", "TRIAL"}
	healths         = []string{"HEALTHY", "AT_RISK", "CRITICAL"}
	classifications = []string{"ENTERPRISE", "MID_MARKET", "SMB", "STRATEGIC"}
	plans           = []string{"free", "starter", "growth", "enterprise"}
	ticketStatuses  = []string{"Open", "In Progress", "Waiting on Customer", "On Hold", "Resolved", "Closed"}
	priorities      = []string{"Low", "Medium", "High", "Urgent"}
	sentiments      = []string{"Positive", "Neutral", "Negative", "Frustrated"}
	ticketTypes     = []string{"Question", "Incident", "Problem", "Feature Request", "Billing"}
	sources         = []string{"email", "slack", "web", "api", "ms_teams", "chat"}
	teamNames       = []string{"Support", "Billing", "Onboarding", "Platform", "Escalations", "Success", "Integrations"}
	tagWords        = []string{"billing", "login", "sso", "bug", "urgent", "vip", "api", "export", "mobile", "refund", "outage", "onboarding"}
	contactTypes    = []string{"CUSTOMER", "LEAD", "PARTNER", "VENDOR"}
	userTypes       = []string{"ORG_ADMIN", "USER", "BOT_USER"}
	commentTypes    = []string{"COMMENT", "NOTE", "REPLY"}
	emojis          = []string{"thumbsup", "heart", "eyes", "tada", "white_check_mark", "rocket"}
	dealStages      = []string{"prospecting", "qualification", "proposal", "negotiation", "closed_won", "closed_lost"}
	dealProducts    = []string{"Enterprise Software License", "Premium Support Add-on", "Analytics Seat Pack", "Data Migration Service", "Annual Platform Subscription"}
	timezones       = []string{"America/New_York", "Europe/Berlin", "Asia/Kolkata", "Asia/Tokyo", "America/Sao_Paulo", "Australia/Sydney"}
	subjects        = []string{
		"Cannot log in after SSO change", "Invoice shows the wrong amount", "Webhook deliveries are delayed",
		"Export to CSV times out", "Need to add five more seats", "Slack notifications stopped",
		"API returns 429 during nightly sync", "Password reset e-mail never arrives", "Dashboard loads slowly",
		"How do I change the ticket form?", "Refund for duplicate charge", "Mobile app crashes on upload",
	}
	sentences = []string{
		"The customer reports that the issue started right after this morning's deployment.",
		"We tried clearing the cache and signing in from a private window, with the same result.",
		"Attached are the request ids from the browser console for the failing calls.",
		"This is blocking their month-end close, so they asked for an update by end of day.",
		"The problem only affects users in the EU workspace; US users are fine.",
		"Our logs show repeated timeouts from the upstream identity provider.",
		"They would like to know whether a workaround exists until the fix ships.",
		"Escalating because three other accounts reported the same behaviour today.",
		"I walked them through the configuration steps and confirmed the settings are correct.",
		"Please check whether the retry policy changed in the last release.",
		"The invoice lists twelve seats, but the account only has nine active users.",
		"Screenshots show the spinner never finishes on the reports page.",
		"Customer confirmed the fix works after reloading the page.",
		"Following up on the previous message, no response from the customer yet.",
	}
)
