// Package wiretest holds the answers SNS and its stand-ins (moto, the SNS
// double, proxies and load balancers in between) give to Publish and
// PublishBatch, for the tests and fuzz seeds of sns/internal/wire and of
// the sns package's cross-checks with the SDK.
package wiretest

// BatchAnswers are 2xx PublishBatch bodies by name.
var BatchAnswers = map[string]string{
	// SNS, as its documentation shows it: indented, fields in any order.
	"sns": `<PublishBatchResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/">
    <PublishBatchResult>
        <Successful>
            <member>
                <MessageId>567910cd-659e-55d4-8ccb-5aaf14679dc0</MessageId>
                <Id>1</Id>
            </member>
        </Successful>
        <Failed>
            <member>
                <Code>InvalidParameter</Code>
                <Message>Invalid parameter: Message</Message>
                <Id>2</Id>
                <SenderFault>true</SenderFault>
            </member>
        </Failed>
    </PublishBatchResult>
    <ResponseMetadata>
        <RequestId>d74b8436-ae13-5ab4-a9ff-ce54dfea72a0</RequestId>
    </ResponseMetadata>
</PublishBatchResponse>`,
	// moto, as the local stack answers.
	"moto":                  `<PublishBatchResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><PublishBatchResult><Successful><member><Id>a</Id><MessageId>31ab411d-ccc4-4742-9b40-03daeff12eaf</MessageId></member><member><Id>b</Id><MessageId>35e8b7d2-2f3b-41da-89af-5bfa9df5fb61</MessageId></member></Successful><Failed/></PublishBatchResult><ResponseMetadata><RequestId>RjK0rgEbno6V80SiqknpmC1BKnsxnjBTXeyopcx5bO4YfcZ8xMH5</RequestId></ResponseMetadata></PublishBatchResponse>`,
	"fifo":                  `<PublishBatchResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><PublishBatchResult><Successful><member><Id>0</Id><MessageId>m0</MessageId><SequenceNumber>10000000000000000001</SequenceNumber></member><member><Id>1</Id><MessageId>m1</MessageId><SequenceNumber>10000000000000000002</SequenceNumber></member></Successful><Failed></Failed></PublishBatchResult></PublishBatchResponse>`,
	"throttled entries":     `<PublishBatchResponse><PublishBatchResult><Successful/><Failed><member><Id>0</Id><Code>Throttled</Code><Message>Rate exceeded</Message><SenderFault>false</SenderFault></member><member><Id>1</Id><Code>KMSThrottling</Code><Message>KMS &amp; &lt;co&gt; &quot;slow&quot; &apos;</Message><SenderFault>true</SenderFault></member></Failed></PublishBatchResult></PublishBatchResponse>`,
	"entities and odd case": `<publishbatchresponse><PUBLISHBATCHRESULT><successful><item><ID>a&amp;b</ID><messageid>x</messageid><Extra><Deep>1</Deep></Extra></item></successful></PUBLISHBATCHRESULT></publishbatchresponse>`,
	"xml declaration":       `<?xml version="1.0" encoding="UTF-8"?><PublishBatchResponse><PublishBatchResult><Successful><member><Id>0</Id><MessageId>m</MessageId></member></Successful></PublishBatchResult></PublishBatchResponse>`,
	"comment and cdata":     `<PublishBatchResponse><!-- hi --><PublishBatchResult><Successful><member><Id><![CDATA[0]]></Id><MessageId>m&#65;</MessageId></member></Successful></PublishBatchResult></PublishBatchResponse>`,
	"repeated members":      `<R><PublishBatchResult><Successful><member><Id>0</Id><Id>1</Id></member></Successful><Successful><member><Id>2</Id></member></Successful></PublishBatchResult></R>`,
	"empty result":          `<PublishBatchResponse><PublishBatchResult/></PublishBatchResponse>`,
	"no result":             `<PublishBatchResponse><ResponseMetadata/></PublishBatchResponse>`,
	"truncated":             `<PublishBatchResponse><PublishBatchResult><Successful><member><Id>0</Id><MessageId>m0</MessageId></member><member><Id>1</Id><Mess`,
	"bad bool":              `<PublishBatchResponse><PublishBatchResult><Failed><member><Id>0</Id><SenderFault>yes</SenderFault></member></Failed></PublishBatchResult></PublishBatchResponse>`,
	"element in a string":   `<PublishBatchResponse><PublishBatchResult><Successful><member><Id>0<b/></Id></member></Successful></PublishBatchResult></PublishBatchResponse>`,
	"mismatched end":        `<PublishBatchResponse><PublishBatchResult><Successful></Failed></PublishBatchResult></PublishBatchResponse>`,
	"namespace prefix":      `<s:PublishBatchResponse xmlns:s="x"><s:PublishBatchResult><s:Successful><s:member><s:Id>0</s:Id></s:member></s:Successful></s:PublishBatchResult></s:PublishBatchResponse>`,
	"non-ascii":             `<PublishBatchResponse><PublishBatchResult><Failed><member><Id>0</Id><Message>héllo</Message><SenderFault>1</SenderFault></member></Failed></PublishBatchResult></PublishBatchResponse>`,
	"carriage return":       "<PublishBatchResponse><PublishBatchResult><Failed><member><Id>0</Id><Message>a\r\nb</Message></member></Failed></PublishBatchResult></PublishBatchResponse>",
	"json":                  `{"Successful":[{"Id":"0","MessageId":"m"}],"Failed":[]}`,
	"error document on 200": `<ErrorResponse><Error><Code>InternalError</Code></Error></ErrorResponse>`,
	"empty":                 ``,
}

// PublishAnswers are 2xx Publish bodies by name.
var PublishAnswers = map[string]string{
	"moto": `<PublishResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><PublishResult><MessageId>81af0531-e0ef-44da-a7ca-7766f4a36067</MessageId></PublishResult><ResponseMetadata><RequestId>YEAe</RequestId></ResponseMetadata></PublishResponse>`,
	"fifo": `<PublishResponse><PublishResult><MessageId>m</MessageId><SequenceNumber>10000000000000000001</SequenceNumber></PublishResult></PublishResponse>`,
	"none": `<PublishResponse></PublishResponse>`,
}

// ErrorAnswer is a non-2xx answer.
type ErrorAnswer struct {
	Status int
	Header map[string]string
	Body   string
}

// ErrorAnswers are the error answers, by name, that SNS, moto, the double
// and whatever stands between them and the bridge give: every code the
// bridge classifies, modeled and unmodeled codes, and bodies the SDK cannot
// read (empty, HTML, JSON, plain text, truncated).
var ErrorAnswers = map[string]ErrorAnswer{
	"NotFound (moto)":                  {404, nil, `<ErrorResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><Error><Type>Sender</Type><Code>NotFound</Code><Message>Topic does not exist</Message><message>Topic does not exist</message></Error><RequestId>3IdF</RequestId></ErrorResponse>`},
	"InvalidParameter (moto)":          {400, nil, `<ErrorResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><Error><Type>Sender</Type><Code>InvalidParameter</Code><Message>The message attribute 'k' must contain non-empty message attribute value.</Message><message>The message attribute 'k' must contain non-empty message attribute value.</message></Error><RequestId>mjCN</RequestId></ErrorResponse>`},
	"BatchEntryIdsNotDistinct":         {400, nil, `<ErrorResponse><Error><Type>Sender</Type><Code>BatchEntryIdsNotDistinct</Code><Message>Two or more batch entries in the request have the same Id.</Message></Error><RequestId>r</RequestId></ErrorResponse>`},
	"TooManyEntriesInBatchRequest":     {400, nil, `<ErrorResponse><Error><Type>Sender</Type><Code>TooManyEntriesInBatchRequest</Code><Message>The batch request contains more entries than permissible.</Message></Error></ErrorResponse>`},
	"BatchRequestTooLong":              {400, nil, `<ErrorResponse><Error><Type>Sender</Type><Code>BatchRequestTooLong</Code><Message>The length of all the messages put together is more than the limit.</Message></Error></ErrorResponse>`},
	"EmptyBatchRequest":                {400, nil, `<ErrorResponse><Error><Type>Sender</Type><Code>EmptyBatchRequest</Code><Message>The batch request doesn't contain any entries.</Message></Error></ErrorResponse>`},
	"InvalidBatchEntryId":              {400, nil, `<ErrorResponse><Error><Type>Sender</Type><Code>InvalidBatchEntryId</Code><Message>bad id</Message></Error></ErrorResponse>`},
	"ParameterValueInvalid":            {400, nil, `<ErrorResponse><Error><Type>Sender</Type><Code>ParameterValueInvalid</Code><Message>The message attribute 'x' has an invalid value</Message></Error></ErrorResponse>`},
	"ValidationException":              {400, nil, `<ErrorResponse><Error><Type>Sender</Type><Code>ValidationException</Code><Message>1 validation error detected</Message></Error></ErrorResponse>`},
	"AuthorizationError":               {403, nil, `<ErrorResponse><Error><Type>Sender</Type><Code>AuthorizationError</Code><Message>User is not authorized</Message></Error></ErrorResponse>`},
	"InvalidClientTokenId":             {403, nil, `<ErrorResponse><Error><Type>Sender</Type><Code>InvalidClientTokenId</Code><Message>The security token included in the request is invalid.</Message></Error></ErrorResponse>`},
	"SignatureDoesNotMatch":            {403, nil, `<ErrorResponse><Error><Type>Sender</Type><Code>SignatureDoesNotMatch</Code><Message>Signature expired</Message></Error></ErrorResponse>`},
	"ExpiredToken":                     {403, nil, `<ErrorResponse><Error><Type>Sender</Type><Code>ExpiredToken</Code><Message>The security token included in the request is expired</Message></Error></ErrorResponse>`},
	"KMSAccessDenied":                  {400, nil, `<ErrorResponse><Error><Type>Sender</Type><Code>KMSAccessDenied</Code><Message>denied</Message></Error></ErrorResponse>`},
	"KMSThrottling":                    {400, nil, `<ErrorResponse><Error><Type>Sender</Type><Code>KMSThrottling</Code><Message>slow down</Message></Error></ErrorResponse>`},
	"Throttled 429":                    {429, nil, `<ErrorResponse><Error><Type>Sender</Type><Code>Throttled</Code><Message>Rate exceeded</Message></Error></ErrorResponse>`},
	"Throttling 400":                   {400, nil, `<ErrorResponse><Error><Type>Sender</Type><Code>Throttling</Code><Message>Rate exceeded</Message></Error></ErrorResponse>`},
	"InternalError 500":                {500, nil, `<ErrorResponse><Error><Type>Receiver</Type><Code>InternalError</Code><Message>Internal failure</Message></Error></ErrorResponse>`},
	"InternalFailure 500":              {500, nil, `<ErrorResponse><Error><Type>Receiver</Type><Code>InternalFailure</Code><Message>oops</Message></Error></ErrorResponse>`},
	"ServiceUnavailable 503":           {503, nil, `<ErrorResponse><Error><Type>Receiver</Type><Code>ServiceUnavailable</Code><Message>try later</Message></Error></ErrorResponse>`},
	"unknown code Receiver":            {400, nil, `<ErrorResponse><Error><Type>Receiver</Type><Code>SomethingNew</Code><Message>new</Message></Error></ErrorResponse>`},
	"no code":                          {400, nil, `<ErrorResponse><Error><Type>Sender</Type></Error></ErrorResponse>`},
	"shape name as code":               {404, nil, `<ErrorResponse><Error><Code>NotFoundException</Code><Message>m</Message></Error></ErrorResponse>`},
	"shape id as code":                 {404, nil, `<ErrorResponse><Error><Code>com.amazonaws.sns#NotFoundException</Code><Message>m</Message></Error></ErrorResponse>`},
	"modeled, lower-case message last": {400, nil, `<ErrorResponse><Error><Code>InvalidParameter</Code><Message>upper</Message><message>lower</message></Error></ErrorResponse>`},
	"modeled, element in message":      {400, nil, `<ErrorResponse><Error><Code>InvalidParameter</Code><Message>a<b/>c</Message></Error></ErrorResponse>`},
	"unmodeled, element in message":    {400, nil, `<ErrorResponse><Error><Code>Odd</Code><Message>a<b>x</b>c</Message></Error></ErrorResponse>`},
	"error without wrapper":            {400, nil, `<Error><Code>InvalidParameter</Code><Message>bare</Message></Error>`},
	"503 empty":                        {503, nil, ``},
	"500 empty":                        {500, nil, ``},
	"429 empty":                        {429, nil, ``},
	"502 html":                         {502, map[string]string{"Content-Type": "text/html"}, `<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center></body></html>`},
	"503 html with error element":      {503, map[string]string{"Content-Type": "text/html"}, `<!DOCTYPE html><html><body><error>busy</error></body></html>`},
	"429 html unclosed":                {429, map[string]string{"Content-Type": "text/html"}, `<html><body>Too many requests<br></body></html>`},
	"400 json query-compatible": {400, map[string]string{"Content-Type": "application/x-amz-json-1.0", "X-Amzn-Query-Error": "InvalidParameter;Sender"},
		`{"__type":"com.amazonaws.sns#InvalidParameterException","message":"Invalid parameter: Message"}`},
	"500 json":                       {500, map[string]string{"Content-Type": "application/x-amz-json-1.0"}, `{"__type":"InternalError","message":"boom"}`},
	"throttling json":                {400, map[string]string{"Content-Type": "application/x-amz-json-1.0", "X-Amzn-Query-Error": "Throttling;Sender"}, `{"__type":"Throttling","message":"Rate exceeded"}`},
	"truncated error":                {400, nil, `<ErrorResponse><Error><Type>Sender</Type><Code>Throttl`},
	"truncated 500":                  {500, nil, `<ErrorResponse><Error><Code>InternalError</Code><Mess`},
	"plain text 503":                 {503, map[string]string{"Content-Type": "text/plain"}, `Service Unavailable`},
	"xml declaration":                {400, nil, `<?xml version="1.0"?><ErrorResponse><Error><Code>NotFound</Code><Message>x</Message></Error></ErrorResponse>`},
	"request id header":              {404, map[string]string{"X-Amzn-RequestId": "hdr-1"}, `<ErrorResponse><Error><Code>NotFound</Code><Message>x</Message></Error><RequestId>body-1</RequestId></ErrorResponse>`},
	"Throttled 200-like body on 400": {400, nil, `<PublishBatchResponse><PublishBatchResult/></PublishBatchResponse>`},
}
